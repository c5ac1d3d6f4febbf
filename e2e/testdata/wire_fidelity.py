"""Drive trailwatch's CloudWatch and CloudWatch Logs with botocore over one wire protocol and print
what botocore decoded, with the Python type of every number, for e2e/wirefidelity_test.go to
compare with AWS's answers.

Usage: python3 wire_fidelity.py <endpoint-url> <protocol>, protocol one of query, json,
smithy-rpc-v2-cbor (CloudWatch's three); credentials and region come from the environment.
"""
import datetime
import json
import sys

import botocore.config
import botocore.model
import botocore.session
from botocore.exceptions import ClientError

endpoint, protocol = sys.argv[1], sys.argv[2]
botocore.model.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS = (protocol,) + tuple(
    p for p in ("smithy-rpc-v2-cbor", "json", "query") if p != protocol
)
session = botocore.session.get_session()
config = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"})
cw = session.create_client("cloudwatch", endpoint_url=endpoint, config=config)
logs = session.create_client("logs", endpoint_url=endpoint, config=config)


def typed(v):
    """A number with its Python type, so that 30 and 30.0 differ."""
    return [type(v).__name__, v]


out = {"protocol": cw.meta.service_model.resolved_protocol}
ns = "Fidelity/" + protocol
now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
at = now - datetime.timedelta(minutes=2)

# Data of two units (localstack's AWS-validated test_get_metric_data_different_units_no_unit_in_query)
# and Values together with StatisticValues in one datum.
cw.put_metric_data(Namespace=ns, MetricData=[
    {"MetricName": "m-test", "Timestamp": at, "Value": 60000, "Unit": "Milliseconds"},
    {"MetricName": "m-test", "Timestamp": at, "Value": 60, "Unit": "Seconds"},
    {"MetricName": "both", "Timestamp": at, "Values": [1.0, 10.0], "Counts": [2, 4], "Unit": "Count",
     "StatisticValues": {"SampleCount": 3, "Sum": 30, "Minimum": 5, "Maximum": 20}},
    {"MetricName": "metric1", "Timestamp": at, "Value": 7, "Unit": "Seconds"},
])


def stat_query(qid, name, stat, period=60, unit=None):
    ms = {"Metric": {"Namespace": ns, "MetricName": name}, "Period": period, "Stat": stat}
    if unit:
        ms["Unit"] = unit
    return {"Id": qid, "MetricStat": ms}


gmd = cw.get_metric_data(
    MetricDataQueries=[
        stat_query("m1", "m-test", "Sum"),
        stat_query("sum60", "metric1", "Sum", 60),
        stat_query("min30", "metric1", "Minimum", 30),
    ],
    StartTime=now - datetime.timedelta(minutes=10),
    EndTime=now + datetime.timedelta(minutes=1),
)
out["GetMetricData"] = {
    "Messages": gmd["Messages"],
    "MetricDataResults": [
        {
            "Id": r["Id"],
            "Label": r["Label"],
            "StatusCode": r["StatusCode"],
            "Values": [typed(v) for v in r["Values"]],
            "Timestamps": [type(ts).__name__ for ts in r["Timestamps"]],
            **({"Messages": r["Messages"]} if "Messages" in r else {}),
        }
        for r in gmd["MetricDataResults"]
    ],
}

gms = cw.get_metric_statistics(
    Namespace=ns, MetricName="both", StartTime=now - datetime.timedelta(minutes=10),
    EndTime=now + datetime.timedelta(minutes=1), Period=60, Statistics=["SampleCount", "Sum", "Maximum"],
)
out["GetMetricStatistics"] = {
    "Label": gms["Label"],
    "Datapoints": [
        {k: (typed(v) if k != "Timestamp" and not isinstance(v, str) else
             (type(v).__name__ if k == "Timestamp" else v)) for k, v in d.items()}
        for d in gms["Datapoints"]
    ],
}

cw.put_metric_alarm(
    AlarmName="fidelity", MetricName="metric1", Namespace=ns, Statistic="Sum", Period=60,
    EvaluationPeriods=1, Threshold=30, ComparisonOperator="GreaterThanThreshold",
)
da = cw.describe_alarms(AlarmNames=["fidelity"])
a = da["MetricAlarms"][0]
out["DescribeAlarms"] = {
    "keys": sorted(k for k in da if k != "ResponseMetadata"),
    "LogAlarms": da.get("LogAlarms"),
    "CompositeAlarms": da["CompositeAlarms"],
    "Threshold": typed(a["Threshold"]),
    "Period": typed(a["Period"]),
    "EvaluationPeriods": typed(a["EvaluationPeriods"]),
    "StateUpdatedTimestamp": type(a["StateUpdatedTimestamp"]).__name__,
    "StateReason": a["StateReason"],
    "RequestIdHeader": "x-amzn-requestid" in da["ResponseMetadata"]["HTTPHeaders"],
}

arn = a["AlarmArn"]
tag = cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "k", "Value": "v"}])
out["TagResource"] = sorted(k for k in tag if k != "ResponseMetadata")
out["ListTagsForResource"] = cw.list_tags_for_resource(ResourceARN=arn)["Tags"]
untag = cw.untag_resource(ResourceARN=arn, TagKeys=["k"])
out["UntagResource"] = sorted(k for k in untag if k != "ResponseMetadata")
cw.delete_alarms(AlarmNames=["fidelity"])
out["ListTagsOfDeletedAlarm"] = cw.list_tags_for_resource(ResourceARN=arn)["Tags"]

try:
    cw.set_alarm_state(AlarmName="no-such-alarm", StateValue="ALARM", StateReason="x")
    out["SetAlarmStateError"] = None
except ClientError as e:
    err = dict(e.response["Error"])
    out["SetAlarmStateError"] = {"Code": err.get("Code"), "HasMessage": bool(err.get("Message"))}

if protocol == "json":
    # CloudWatch Logs speaks awsJson 1.1 only; it runs once, with the JSON pass.
    group = "/fidelity/" + protocol
    logs.create_log_group(logGroupName=group)
    logs.create_log_group(logGroupName="/aws/lambda/fidelity")
    logs.put_metric_filter(
        logGroupName=group, filterName="f", filterPattern="",
        metricTransformations=[{"metricName": "m", "metricNamespace": "n", "metricValue": "1", "defaultValue": 0}],
    )
    mt = logs.describe_metric_filters(logGroupName=group)["metricFilters"][0]["metricTransformations"][0]
    out["Logs"] = {
        "defaultValue": typed(mt["defaultValue"]),
        "ListLogGroups": [
            {k: v for k, v in g.items()}
            for g in logs.list_log_groups(logGroupNamePattern="^/aws/lambda|fidelity/json")["logGroups"]
        ],
    }

print(json.dumps(out, sort_keys=True))
