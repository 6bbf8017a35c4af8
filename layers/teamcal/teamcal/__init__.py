"""teamcal: the domain logic shared by every teamcal Lambda function (the layer)."""
