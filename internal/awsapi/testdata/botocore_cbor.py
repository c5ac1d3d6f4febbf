"""Drive trailwatch's CloudWatch toy service with botocore's Smithy RPC v2 CBOR client.

botocore ranks awsJson above CBOR, so this script puts CBOR first before creating the client.
Usage: python3 botocore_cbor.py <endpoint-url>; credentials come from the environment.
Prints one JSON object with the results for the Go test to check.
"""
import datetime
import json
import sys

import botocore.model
import botocore.session
from botocore.exceptions import ClientError

botocore.model.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS = ("smithy-rpc-v2-cbor", "json", "query")

session = botocore.session.get_session()
cw = session.create_client(
    "cloudwatch",
    endpoint_url=sys.argv[1],
    region_name="ap-southeast-2",
    config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}),
)
result = {"protocol": cw.meta.service_model.resolved_protocol}
cw.put_metric_alarm(
    AlarmName="RootLogin",
    MetricName="RootAccountUsage",
    Namespace="CloudTrailMetrics",
    Statistic="Sum",
    Period=60,
    EvaluationPeriods=1,
    Threshold=0.5,
    ComparisonOperator="GreaterThanOrEqualToThreshold",
    AlarmActions=["arn:aws:sns:ap-southeast-2:111111111111:alarms"],
    OKActions=[],
    Dimensions=[{"Name": "Env", "Value": "prod"}],
)
alarms = cw.describe_alarms(AlarmNames=["RootLogin"])
a = alarms["MetricAlarms"][0]
result["alarm"] = {
    "AlarmArn": a["AlarmArn"],
    "Threshold": a["Threshold"],
    "Period": a["Period"],
    "StateUpdatedTimestamp": a["StateUpdatedTimestamp"].isoformat(),
    "Dimensions": a["Dimensions"],
    "OKActions": a["OKActions"],
}
result["CompositeAlarms"] = alarms["CompositeAlarms"]
try:
    cw.set_alarm_state(AlarmName="nope", StateValue="ALARM", StateReason="x")
except ClientError as e:
    result["error"] = {
        "Code": e.response["Error"]["Code"],
        "Message": e.response["Error"].get("Message"),
        "Status": e.response["ResponseMetadata"]["HTTPStatusCode"],
    }
cw.put_metric_data(
    Namespace="App",
    MetricData=[
        {
            "MetricName": "Latency",
            "Value": 2.25,
            "Timestamp": datetime.datetime(2025, 11, 26, 19, 0, 7, 250000, tzinfo=datetime.timezone.utc),
        }
    ],
)
print(json.dumps(result))
