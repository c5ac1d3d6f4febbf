package plan

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// The resources of `apply --deliver-to`: an EventBridge rule for CloudTrail's management events with
// an API destination that posts them to trailwatch's /ingest/eventbridge endpoint, authenticated by
// the API key header the server checks (README "EventBridge API destinations").
const (
	DeliveryName      = "trailwatch"
	DeliveryRole      = "trailwatch-eventbridge-delivery"
	DeliveryPolicy    = "invoke-trailwatch-api-destination"
	DeliveryRule      = "trailwatch-cloudtrail-events"
	DeliveryTargetID  = "trailwatch"
	DeliveryKeyHeader = "x-trailwatch-api-key"
)

// DeliveryPattern matches the CloudTrail events EventBridge carries: API calls and console sign-ins
// (root console sign-ins arrive in us-east-1).
const DeliveryPattern = `{"detail-type":["AWS API Call via CloudTrail","AWS Console Sign In via CloudTrail"]}`

// DeliveryTrust lets EventBridge assume the role that invokes the API destination.
const DeliveryTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// DeliveryRolePolicy allows invoking the API destination (any of its generated ARN suffixes).
func DeliveryRolePolicy(account, region string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"events:InvokeApiDestination","Resource":"arn:aws:events:%s:%s:api-destination/%s/*"}]}`, region, account, DeliveryName)
}

// Delivery is what exists of the --deliver-to resources.
type Delivery struct {
	// ConnectionExists and ConnectionKeyName describe the connection (its key cannot be read).
	ConnectionExists  bool
	ConnectionKeyName string
	// DestinationExists, DestinationURL and DestinationARN describe the API destination.
	DestinationExists bool
	DestinationURL    string
	DestinationARN    string
	// Rule* describe the rule; TargetDestinations are the ARNs its targets name.
	RuleExists         bool
	RulePattern        string
	RuleEnabled        bool
	TargetDestinations []string
	// RoleExists and RolePolicy describe the invoking role and its inline policy.
	RoleExists bool
	RolePolicy string
}

// The calls of --deliver-to.
type (
	// CreateConnection creates the EventBridge connection carrying the API key.
	CreateConnection struct{ Name, KeyHeader, Key string }
	// PutAPIDestination creates the API destination, or updates its endpoint.
	PutAPIDestination struct {
		Name, Connection, Endpoint string
		Update                     bool
	}
	// PutRule creates or updates the rule.
	PutRule struct{ Name, Pattern string }
	// PutTarget points the rule at the API destination through the role.
	PutTarget struct{ Rule, ID, Destination, RoleARN string }
)

func (CreateConnection) op()  {}
func (PutAPIDestination) op() {}
func (PutRule) op()           {}
func (PutTarget) op()         {}

// IngestURL is the endpoint of a trailwatch base URL that EventBridge posts to.
func IngestURL(base string) string {
	return strings.TrimSuffix(base, "/") + "/ingest/eventbridge"
}

// deliver plans the --deliver-to resources.
func (p *planner) deliver() {
	d := p.x.Delivery
	url := IngestURL(p.o.DeliverTo)
	conn := p.arn("events", "connection/"+DeliveryName)
	switch {
	case !d.ConnectionExists:
		p.add(Create, conn, "EventBridge connection with the API key header "+DeliveryKeyHeader+" (the key itself is not shown)", CreateConnection{Name: DeliveryName, KeyHeader: DeliveryKeyHeader, Key: p.o.DeliverKey})
	case d.ConnectionKeyName != DeliveryKeyHeader:
		p.add(Blocked, conn, fmt.Sprintf("connection %s sends the header %s, not %s; change it or delete it", DeliveryName, d.ConnectionKeyName, DeliveryKeyHeader), nil)
	default:
		p.add(OK, conn, "connection exists (its key cannot be read back; rotate it with aws events update-connection)", nil)
	}
	dest := p.arn("events", "api-destination/"+DeliveryName)
	switch {
	case !d.DestinationExists:
		p.add(Create, dest, "API destination POST "+url, PutAPIDestination{Name: DeliveryName, Connection: DeliveryName, Endpoint: url})
	case d.DestinationURL != url:
		p.add(Update, dest, "API destination endpoint "+d.DestinationURL+" -> "+url, PutAPIDestination{Name: DeliveryName, Connection: DeliveryName, Endpoint: url, Update: true})
	default:
		p.add(OK, dest, "API destination posts to "+url, nil)
	}
	role := p.arn("iam", "role/"+DeliveryRole)
	if !d.RoleExists {
		p.add(Create, role, "role EventBridge assumes to invoke the API destination", CreateRole{Name: DeliveryRole, Trust: DeliveryTrust})
	}
	if want := DeliveryRolePolicy(p.f.AccountID, p.o.Region); d.RolePolicy == "" || !samePolicy(d.RolePolicy, want) {
		p.add(Update, role, "inline policy "+DeliveryPolicy+": events:InvokeApiDestination", PutRolePolicy{Role: DeliveryRole, Name: DeliveryPolicy, Policy: want})
	} else {
		p.add(OK, role, "role may invoke the API destination", nil)
	}
	rule := p.arn("events", "rule/"+DeliveryRule)
	switch {
	case !d.RuleExists:
		p.add(Create, rule, "rule for CloudTrail management events: "+DeliveryPattern, PutRule{Name: DeliveryRule, Pattern: DeliveryPattern})
	case !sameJSON(d.RulePattern, DeliveryPattern) || !d.RuleEnabled:
		p.add(Update, rule, "rule pattern "+d.RulePattern+" -> "+DeliveryPattern+", enabled", PutRule{Name: DeliveryRule, Pattern: DeliveryPattern})
	default:
		p.add(OK, rule, "rule matches CloudTrail management events", nil)
	}
	target := false
	for _, t := range d.TargetDestinations {
		target = target || (d.DestinationARN != "" && t == d.DestinationARN)
	}
	if target {
		p.add(OK, rule, "rule targets the API destination", nil)
	} else {
		p.add(Create, rule, "target: the API destination, through role "+DeliveryRole, PutTarget{Rule: DeliveryRule, ID: DeliveryTargetID, Destination: DeliveryName, RoleARN: role})
	}
}

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
