package cloudtrailapi

import (
	"context"

	"github.com/trailwatch/trailwatch/internal/trail"
)

// eventSelector is the EventSelector shape. On input, absent ReadWriteType and
// IncludeManagementEvents take CloudTrail's defaults (All, true: "By default, the value is
// All/true", CloudTrail's model); on output every member is sent, the lists as [] when empty (the
// aws CLI's get-event-selectors example shows "DataResources": []; it predates
// ExcludeManagementEventSources, which trailwatch sends as [] too, AWS's form for an unset list
// member of a basic selector: decided, not recorded).
type eventSelector struct {
	ReadWriteType                 string         `json:"ReadWriteType"`
	IncludeManagementEvents       *bool          `json:"IncludeManagementEvents"`
	DataResources                 []dataResource `json:"DataResources"`
	ExcludeManagementEventSources []string       `json:"ExcludeManagementEventSources"`
}

type dataResource struct {
	Type   string   `json:"Type,omitempty"`
	Values []string `json:"Values"`
}

// advancedEventSelector is the AdvancedEventSelector shape; Name is optional and left out when
// empty.
type advancedEventSelector struct {
	Name           *string         `json:"Name,omitempty"`
	FieldSelectors []fieldSelector `json:"FieldSelectors"`
}

// fieldSelector is the AdvancedFieldSelector shape: only the operators used are sent.
type fieldSelector struct {
	Field         string   `json:"Field"`
	Equals        []string `json:"Equals,omitempty"`
	StartsWith    []string `json:"StartsWith,omitempty"`
	EndsWith      []string `json:"EndsWith,omitempty"`
	NotEquals     []string `json:"NotEquals,omitempty"`
	NotStartsWith []string `json:"NotStartsWith,omitempty"`
	NotEndsWith   []string `json:"NotEndsWith,omitempty"`
}

// putEventSelectorsInput is PutEventSelectorsRequest. A list left out stays nil, one sent empty
// is an empty non-nil slice: the domain tells "not sent" from "sent empty".
type putEventSelectorsInput struct {
	TrailName              string                  `json:"TrailName"`
	EventSelectors         []eventSelector         `json:"EventSelectors,omitempty"`
	AdvancedEventSelectors []advancedEventSelector `json:"AdvancedEventSelectors,omitempty"`
}

// eventSelectorsOutput is PutEventSelectorsResponse and GetEventSelectorsResponse: TrailARN and
// the kind of selectors the trail has; the other list is left out, as in AWS's examples.
type eventSelectorsOutput struct {
	TrailARN               string                  `json:"TrailARN"`
	EventSelectors         []eventSelector         `json:"EventSelectors,omitempty"`
	AdvancedEventSelectors []advancedEventSelector `json:"AdvancedEventSelectors,omitempty"`
}

type trailNameInput struct {
	TrailName string `json:"TrailName"`
}

// fromWire converts the request's selectors to the domain's, applying the defaults of absent
// members and keeping a nil list nil.
func (in *putEventSelectorsInput) fromWire() ([]trail.EventSelector, []trail.AdvancedEventSelector) {
	var basic []trail.EventSelector
	if in.EventSelectors != nil {
		basic = make([]trail.EventSelector, 0, len(in.EventSelectors))
	}
	for _, es := range in.EventSelectors {
		d := trail.EventSelector{ReadWriteType: es.ReadWriteType, IncludeManagementEvents: es.IncludeManagementEvents == nil || *es.IncludeManagementEvents,
			ExcludeManagementEventSources: es.ExcludeManagementEventSources}
		if d.ReadWriteType == "" {
			d.ReadWriteType = trail.ReadWriteAll
		}
		for _, dr := range es.DataResources {
			d.DataResources = append(d.DataResources, trail.DataResource{Type: dr.Type, Values: dr.Values})
		}
		basic = append(basic, d)
	}
	var advanced []trail.AdvancedEventSelector
	if in.AdvancedEventSelectors != nil {
		advanced = make([]trail.AdvancedEventSelector, 0, len(in.AdvancedEventSelectors))
	}
	for _, a := range in.AdvancedEventSelectors {
		d := trail.AdvancedEventSelector{}
		if a.Name != nil {
			d.Name = *a.Name
		}
		for _, f := range a.FieldSelectors {
			d.FieldSelectors = append(d.FieldSelectors, trail.FieldSelector{Field: f.Field, Equals: f.Equals, StartsWith: f.StartsWith, EndsWith: f.EndsWith,
				NotEquals: f.NotEquals, NotStartsWith: f.NotStartsWith, NotEndsWith: f.NotEndsWith})
		}
		advanced = append(advanced, d)
	}
	return basic, advanced
}

// selectorsOutput renders a trail's selectors with its ARN.
func selectorsOutput(sc trail.Scope, name string, sel trail.Selectors) *eventSelectorsOutput {
	out := &eventSelectorsOutput{TrailARN: trail.ARN(sc, name)}
	for _, es := range sel.Basic {
		w := eventSelector{ReadWriteType: es.ReadWriteType, IncludeManagementEvents: ptr(es.IncludeManagementEvents),
			DataResources: []dataResource{}, ExcludeManagementEventSources: append([]string{}, es.ExcludeManagementEventSources...)}
		for _, dr := range es.DataResources {
			w.DataResources = append(w.DataResources, dataResource{Type: dr.Type, Values: dr.Values})
		}
		out.EventSelectors = append(out.EventSelectors, w)
	}
	for _, a := range sel.Advanced {
		w := advancedEventSelector{Name: strp(a.Name)}
		for _, f := range a.FieldSelectors {
			w.FieldSelectors = append(w.FieldSelectors, fieldSelector{Field: f.Field, Equals: f.Equals, StartsWith: f.StartsWith, EndsWith: f.EndsWith,
				NotEquals: f.NotEquals, NotStartsWith: f.NotStartsWith, NotEndsWith: f.NotEndsWith})
		}
		out.AdvancedEventSelectors = append(out.AdvancedEventSelectors, w)
	}
	return out
}

func (a *adapter) putEventSelectors(ctx context.Context, in *putEventSelectorsInput) (*eventSelectorsOutput, error) {
	sc := scope(ctx)
	basic, advanced := in.fromWire()
	t, err := a.t.PutSelectors(ctx, sc, in.TrailName, basic, advanced)
	if err != nil {
		return nil, err
	}
	return selectorsOutput(sc, t.Name, t.Effective()), nil
}

func (a *adapter) getEventSelectors(ctx context.Context, in *trailNameInput) (*eventSelectorsOutput, error) {
	sc := scope(ctx)
	t, sel, err := a.t.GetSelectors(ctx, sc, in.TrailName)
	if err != nil {
		return nil, err
	}
	return selectorsOutput(sc, t.Name, sel), nil
}
