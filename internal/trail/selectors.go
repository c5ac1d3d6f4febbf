package trail

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Selectors are a trail's event selectors as PutEventSelectors set them: basic (EventSelectors) or
// advanced (AdvancedEventSelectors), never both, as CloudTrail enforces ("You can use either
// AdvancedEventSelectors or EventSelectors, but not both", CloudTrail API reference,
// PutEventSelectors). A Trail whose Selectors is nil never had any set and records what CloudTrail
// records by default: all read and write management events, no data events (DefaultSelectors).
//
// # What selectors change in trailwatch
//
// They are recorded and reported (GetEventSelectors, and HasCustomEventSelectors in GetTrail and
// DescribeTrails) so that tools reading a trail's configuration, `trailwatch audit` among them,
// see what the account that owns the trail configured. They do not filter ingest: trailwatch does
// not produce CloudTrail records, it reads the log files the account's real trail already wrote
// (S3/SQS, EventBridge, Firehose), and AWS applied that trail's selectors when it wrote them. A
// trailwatch trail whose selectors exclude read events therefore still forwards the read events it
// finds in its bucket; filtering them a second time would silently drop records AWS chose to
// deliver.
type Selectors struct {
	Basic    []EventSelector
	Advanced []AdvancedEventSelector
}

// EventSelector is one basic event selector.
type EventSelector struct {
	// ReadWriteType is ReadOnly, WriteOnly or All.
	ReadWriteType                 string
	IncludeManagementEvents       bool
	DataResources                 []DataResource
	ExcludeManagementEventSources []string
}

// DataResource names the resources of one type whose data events a basic selector records.
type DataResource struct {
	Type   string
	Values []string
}

// AdvancedEventSelector is one advanced event selector: an optional name and its conditions, all
// of which an event must meet.
type AdvancedEventSelector struct {
	Name           string
	FieldSelectors []FieldSelector
}

// FieldSelector is one condition of an advanced event selector on one field of the record.
type FieldSelector struct {
	Field                                 string
	Equals, StartsWith, EndsWith          []string
	NotEquals, NotStartsWith, NotEndsWith []string
}

// values is the number of values of the condition, counted towards the limit of 500.
func (f FieldSelector) values() int {
	return len(f.Equals) + len(f.StartsWith) + len(f.EndsWith) + len(f.NotEquals) + len(f.NotStartsWith) + len(f.NotEndsWith)
}

// DefaultSelectors is what GetEventSelectors answers for a trail created without selectors: one
// basic selector, ReadWriteType All with management events and no data resources (the aws CLI's
// get-event-selectors example; "By default, trails created without specific event selectors are
// configured to log all read and write management events, and no data events", CloudTrail API
// reference, PutEventSelectors).
func DefaultSelectors() Selectors {
	return Selectors{Basic: []EventSelector{{ReadWriteType: ReadWriteAll, IncludeManagementEvents: true}}}
}

// The ReadWriteType values (the ReadWriteType enum of CloudTrail's model).
const (
	ReadWriteReadOnly  = "ReadOnly"
	ReadWriteWriteOnly = "WriteOnly"
	ReadWriteAll       = "All"
)

// Limits of PutEventSelectors (InvalidEventSelectorsException in CloudTrail's model: "A trail can
// have up to 5 event selectors", "A trail is limited to 250 data resources", "a maximum of 500
// total values for all conditions in all advanced event selectors").
const (
	MaxEventSelectors     = 5
	MaxDataResourceValues = 250
	MaxAdvancedValues     = 500
)

// basicDataTypes are the resource types a basic selector accepts, in the order of AWS's message.
var basicDataTypes = []string{"AWS::DynamoDB::Table", "AWS::Lambda::Function", "AWS::S3::Object"}

// excludableSources are the event sources ExcludeManagementEventSources may name ("it can filter
// out Key Management Service or Amazon RDS Data API events", CloudTrail's model).
var excludableSources = []string{"kms.amazonaws.com", "rdsdata.amazonaws.com"}

// advancedFields are the fields an advanced selector of a trail may test (AdvancedFieldSelector in
// the CloudTrail API reference).
var advancedFields = []string{"eventCategory", "eventSource", "eventName", "eventType", "readOnly",
	"resources.type", "resources.ARN", "errorCode", "sessionCredentialFromConsole", "userIdentity.arn", "vpcEndpointId"}

func invalidSelectors(format string, args ...any) *Error {
	return &Error{"InvalidEventSelectorsException", fmt.Sprintf(format, args...)}
}

// CheckSelectors validates a PutEventSelectors request and returns the selectors to store. A nil
// list is a member the request left out; an empty one was sent empty. Messages recorded from AWS
// are used verbatim where known:
//   - "Value X for DataResources.Type is invalid. Valid values are: AWS::DynamoDB::Table,
//     AWS::Lambda::Function, AWS::S3::Object" and "Value X for DataResources.Values is invalid."
//     (errors quoted in aws-cdk#3450 and aws-security-reference-architecture-examples#335);
//   - "Specify a valid number of DataResources.Values (0 to 250) for all your selectors."
//     (aws-crr-monitor#7);
//   - "Invalid combination of parameters in EventSelectors. When includeManagementEvents is
//     false, DataResources must not be empty." (aws-cloudformation-user-guide#752).
//
// The other texts are trailwatch's own, worded after the exception's documentation, because no
// recording of AWS's was found; the code, InvalidEventSelectorsException, is AWS's in every case.
func CheckSelectors(basic []EventSelector, advanced []AdvancedEventSelector) (Selectors, error) {
	switch {
	case basic != nil && advanced != nil:
		return Selectors{}, invalidSelectors("You can use either EventSelectors or AdvancedEventSelectors in a PutEventSelectors request, but not both.")
	case advanced != nil:
		return checkAdvanced(advanced)
	case len(basic) == 0 || len(basic) > MaxEventSelectors:
		return Selectors{}, invalidSelectors("Specify a valid number of event selectors (1 to %d) for a trail.", MaxEventSelectors)
	}
	out := make([]EventSelector, len(basic))
	values := 0
	for i, es := range basic {
		if es.ReadWriteType == "" {
			es.ReadWriteType = ReadWriteAll
		}
		if !slices.Contains([]string{ReadWriteReadOnly, ReadWriteWriteOnly, ReadWriteAll}, es.ReadWriteType) {
			return Selectors{}, invalidSelectors("Value %s for ReadWriteType is invalid. Valid values are: ReadOnly, WriteOnly, All", es.ReadWriteType)
		}
		for _, src := range es.ExcludeManagementEventSources {
			if !slices.Contains(excludableSources, src) {
				return Selectors{}, invalidSelectors("Value %s for ExcludeManagementEventSources is invalid. Valid values are: %s", src, strings.Join(excludableSources, ", "))
			}
		}
		if !es.IncludeManagementEvents && len(es.DataResources) == 0 {
			return Selectors{}, invalidSelectors("Invalid combination of parameters in EventSelectors. When includeManagementEvents is false, DataResources must not be empty.")
		}
		for _, dr := range es.DataResources {
			if !slices.Contains(basicDataTypes, dr.Type) {
				return Selectors{}, invalidSelectors("Value %s for DataResources.Type is invalid. Valid values are: %s", dr.Type, strings.Join(basicDataTypes, ", "))
			}
			for _, v := range dr.Values {
				if !validDataValue(dr.Type, v) {
					return Selectors{}, invalidSelectors("Value %s for DataResources.Values is invalid.", v)
				}
			}
			values += len(dr.Values)
		}
		es.DataResources = slices.Clone(es.DataResources)
		es.ExcludeManagementEventSources = slices.Clone(es.ExcludeManagementEventSources)
		out[i] = es
	}
	if values > MaxDataResourceValues {
		return Selectors{}, invalidSelectors("Specify a valid number of DataResources.Values (0 to %d) for all your selectors.", MaxDataResourceValues)
	}
	return Selectors{Basic: out}, nil
}

// validDataValue says whether v is a value a basic data resource of type typ accepts: the
// all-resources prefix of the service (arn:aws:s3, arn:aws:lambda, arn:aws:dynamodb; arn:aws:s3:::
// as older documentation spells it), or an ARN of one resource or, for S3, of a bucket followed by
// "/" and an optional object prefix. Wildcards are refused (arn:aws:s3:::* is AWS's recorded
// example of an invalid value), and so is a bare bucket ARN without "/" (aws-cdk#3450).
func validDataValue(typ, v string) bool {
	partition, rest, ok := strings.Cut(v, ":")
	if !ok || partition != "arn" || strings.Contains(v, "*") {
		return false
	}
	part, rest, _ := strings.Cut(rest, ":")
	if part != "aws" && part != "aws-cn" && part != "aws-us-gov" {
		return false
	}
	fields := strings.SplitN(rest, ":", 4) // service, region, account, resource
	switch typ {
	case "AWS::S3::Object":
		if rest == "s3" || rest == "s3:::" {
			return true
		}
		if len(fields) != 4 || fields[0] != "s3" || fields[1] != "" || fields[2] != "" {
			return false
		}
		bucket, _, slash := strings.Cut(fields[3], "/")
		return slash && bucket != ""
	case "AWS::Lambda::Function":
		if rest == "lambda" {
			return true
		}
		return len(fields) == 4 && fields[0] == "lambda" && fields[1] != "" && fields[2] != "" &&
			strings.HasPrefix(fields[3], "function:") && len(fields[3]) > len("function:")
	case "AWS::DynamoDB::Table":
		if rest == "dynamodb" {
			return true
		}
		return len(fields) == 4 && fields[0] == "dynamodb" && fields[1] != "" && fields[2] != "" &&
			strings.HasPrefix(fields[3], "table/") && len(fields[3]) > len("table/")
	}
	return false
}

// checkAdvanced validates advanced selectors: at least one; each with at least one condition,
// exactly one eventCategory condition (Equals Management, Data or NetworkActivity), readOnly only
// with Equals true/false, resources.type required for data events, only eventCategory, readOnly
// and eventSource for management events, eventSource there only as NotEquals kms.amazonaws.com or
// rdsdata.amazonaws.com (the sources basic selectors can exclude); every condition with an operator; values 1 to 2048
// characters and no more than 500 in all. These are the rules of the CloudTrail User Guide's
// advanced event selector section and of the model's shape constraints.
func checkAdvanced(advanced []AdvancedEventSelector) (Selectors, error) {
	if len(advanced) == 0 {
		return Selectors{}, invalidSelectors("Specify at least one advanced event selector.")
	}
	out := make([]AdvancedEventSelector, len(advanced))
	values := 0
	for i, a := range advanced {
		if len(a.Name) > 1000 {
			return Selectors{}, invalidSelectors("Advanced event selector name is too long. Maximum allowed length: 1000 characters.")
		}
		if len(a.FieldSelectors) == 0 {
			return Selectors{}, invalidSelectors("Each advanced event selector must have at least one field selector.")
		}
		category, resourceType := "", false
		fs := make([]FieldSelector, len(a.FieldSelectors))
		for j, f := range a.FieldSelectors {
			if !slices.Contains(advancedFields, f.Field) {
				return Selectors{}, invalidSelectors("Value %s for Field is invalid.", f.Field)
			}
			if f.values() == 0 {
				return Selectors{}, invalidSelectors("Field %s must have at least one operator with a value.", f.Field)
			}
			for _, op := range [][]string{f.Equals, f.StartsWith, f.EndsWith, f.NotEquals, f.NotStartsWith, f.NotEndsWith} {
				for _, v := range op {
					if v == "" || len(v) > 2048 {
						return Selectors{}, invalidSelectors("Value for field %s must be between 1 and 2048 characters.", f.Field)
					}
				}
			}
			equalsOnly := f.values() == len(f.Equals)
			switch f.Field {
			case "eventCategory":
				if category != "" {
					return Selectors{}, invalidSelectors("The eventCategory field can be specified only once per advanced event selector.")
				}
				if !equalsOnly || len(f.Equals) != 1 || !slices.Contains([]string{"Management", "Data", "NetworkActivity"}, f.Equals[0]) {
					return Selectors{}, invalidSelectors("The eventCategory field must use the Equals operator with one of the values Management, Data or NetworkActivity.")
				}
				category = f.Equals[0]
			case "readOnly":
				if !equalsOnly || len(f.Equals) != 1 || (f.Equals[0] != "true" && f.Equals[0] != "false") {
					return Selectors{}, invalidSelectors("The readOnly field must use the Equals operator with the value true or false.")
				}
			case "resources.type":
				if !equalsOnly || len(f.Equals) != 1 {
					return Selectors{}, invalidSelectors("The resources.type field must use the Equals operator with one value.")
				}
				resourceType = true
			}
			values += f.values()
			fs[j] = cloneField(f)
		}
		switch {
		case category == "":
			return Selectors{}, invalidSelectors("Each advanced event selector must include the eventCategory field.")
		case category == "Data" && !resourceType:
			return Selectors{}, invalidSelectors("An advanced event selector for data events must include the resources.type field.")
		case category == "Management":
			for _, f := range fs {
				if f.Field != "eventCategory" && f.Field != "readOnly" && f.Field != "eventSource" {
					return Selectors{}, invalidSelectors("Value %s for Field is invalid for management events. Valid fields are: eventCategory, readOnly, eventSource", f.Field)
				}
				if f.Field != "eventSource" {
					continue
				}
				for _, v := range f.NotEquals {
					if !slices.Contains(excludableSources, v) {
						return Selectors{}, invalidSelectors("Value %s for eventSource is invalid for management events. Valid values are: %s", v, strings.Join(excludableSources, ", "))
					}
				}
				if len(f.NotEquals) != f.values() {
					return Selectors{}, invalidSelectors("The eventSource field of a management events selector must use the NotEquals operator.")
				}
			}
		}
		out[i] = AdvancedEventSelector{Name: a.Name, FieldSelectors: fs}
	}
	if values > MaxAdvancedValues {
		return Selectors{}, invalidSelectors("Specify up to %d values for all conditions in all advanced event selectors for a trail.", MaxAdvancedValues)
	}
	return Selectors{Advanced: out}, nil
}

func cloneField(f FieldSelector) FieldSelector {
	return FieldSelector{Field: f.Field,
		Equals: slices.Clone(f.Equals), StartsWith: slices.Clone(f.StartsWith), EndsWith: slices.Clone(f.EndsWith),
		NotEquals: slices.Clone(f.NotEquals), NotStartsWith: slices.Clone(f.NotStartsWith), NotEndsWith: slices.Clone(f.NotEndsWith)}
}

// Effective is the selectors the trail answers GetEventSelectors with: its own, or
// DefaultSelectors when it never had any set.
func (t Trail) Effective() Selectors {
	if t.Selectors == nil {
		return DefaultSelectors()
	}
	return *t.Selectors
}

// resolve turns a TrailName of the selector operations (a name or a trail ARN) into a trail name
// of this scope. A name must follow the trail name rules (InvalidTrailNameException, as CloudTrail
// validates TrailName); an ARN must have the trail ARN form (CloudTrailARNInvalidException), and
// one of another account answers TrailNotFoundException. homeOnly makes an ARN of another region
// InvalidHomeRegionException, as PutEventSelectors answers a call outside the trail's home region;
// without it (GetEventSelectors) such an ARN is not found, trailwatch having no shadow trails.
func resolve(sc Scope, nameOrARN string, homeOnly bool) (string, error) {
	rest, isARN := strings.CutPrefix(nameOrARN, "arn:")
	if !isARN {
		return nameOrARN, checkName(nameOrARN)
	}
	f := strings.SplitN(rest, ":", 5) // partition, service, region, account, resource
	name, ok := "", len(f) == 5 && f[1] == "cloudtrail" && f[2] != "" && f[3] != ""
	if ok {
		name, ok = strings.CutPrefix(f[4], "trail/")
	}
	if !ok || checkName(name) != nil {
		return "", &Error{"CloudTrailARNInvalidException", "The specified ARN is not valid: " + nameOrARN + ". A trail ARN has the form arn:aws:cloudtrail:us-east-2:123456789012:trail/MyTrail."}
	}
	switch {
	case f[3] != sc.AccountID:
		return "", notFound(sc, nameOrARN)
	case f[2] != sc.Region && homeOnly:
		return "", &Error{"InvalidHomeRegionException", "The request was made from region " + sc.Region + " but the trail's home region is " + f[2] + "."}
	case f[2] != sc.Region:
		return "", notFound(sc, nameOrARN)
	}
	return name, nil
}

// PutSelectors validates and stores a trail's event selectors (PutEventSelectors): they replace
// the trail's selectors whole, basic ones replacing advanced ones and the reverse. A nil list is
// a member the request left out. Validation comes first, so a bad request never touches the store;
// the write is the store's read-modify-write, so it composes with concurrent UpdateTrail and
// StartLogging calls. Unlike Update, it does not re-check the trail's log group: the selectors do
// not involve it.
func (s *Service) PutSelectors(ctx context.Context, sc Scope, nameOrARN string, basic []EventSelector, advanced []AdvancedEventSelector) (Trail, error) {
	sel, err := CheckSelectors(basic, advanced)
	if err != nil {
		return Trail{}, err
	}
	name, err := resolve(sc, nameOrARN, true)
	if err != nil {
		return Trail{}, err
	}
	defer s.locks.lock(sc, name)()
	t, err := s.store.UpdateTrail(ctx, sc, name, func(t *Trail) error {
		c := sel
		t.Selectors = &c
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return Trail{}, notFound(sc, nameOrARN)
	}
	if err != nil {
		return Trail{}, fmt.Errorf("put event selectors: %w", err)
	}
	s.changed(sc, t.Name, &t)
	return t, nil
}

// GetSelectors returns a trail with its effective selectors (GetEventSelectors).
func (s *Service) GetSelectors(ctx context.Context, sc Scope, nameOrARN string) (Trail, Selectors, error) {
	name, err := resolve(sc, nameOrARN, false)
	if err != nil {
		return Trail{}, Selectors{}, err
	}
	t, err := s.store.GetTrail(ctx, sc, name)
	if errors.Is(err, ErrNotFound) {
		return Trail{}, Selectors{}, notFound(sc, nameOrARN)
	}
	if err != nil {
		return Trail{}, Selectors{}, fmt.Errorf("get trail: %w", err)
	}
	return t, t.Effective(), nil
}
