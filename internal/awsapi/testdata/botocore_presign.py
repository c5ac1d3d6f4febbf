"""Presign awsQuery calls with botocore, the way a user shares a read-only link.

Usage: python3 botocore_presign.py <endpoint-url>; credentials come from the environment.
Prints one JSON object of URLs for the Go test to call. botocore's generate_presigned_url signs
for the operation's method (POST for awsQuery) unless told otherwise; its SigV4QueryAuth signs
the hash of the empty payload.
"""
import json
import sys

import botocore.model
import botocore.session

# CloudWatch offers CBOR, JSON and query; presigned URLs only make sense for query.
botocore.model.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS = ("query",)

session = botocore.session.get_session()
cw = session.create_client("cloudwatch", endpoint_url=sys.argv[1], region_name="us-east-1")
sns = session.create_client("sns", endpoint_url=sys.argv[1], region_name="us-east-1")
print(json.dumps({
    "list_metrics_post": cw.generate_presigned_url("list_metrics", Params={"Namespace": "AWS/Logs"}, ExpiresIn=300),
    "list_metrics_get": cw.generate_presigned_url("list_metrics", Params={"Namespace": "AWS/Logs"}, ExpiresIn=300, HttpMethod="GET"),
    "list_topics_get": sns.generate_presigned_url("list_topics", Params={}, ExpiresIn=300, HttpMethod="GET"),
}))
