package cloudtrail

import (
	"encoding/json"
	"fmt"
)

// Summary is the who / what / where / when of one CloudTrail record, the columns an operator
// reads first (the console's board, feed and evidence pages). Values are the record's, unescaped:
// whoever shows them must escape them.
type Summary struct {
	EventTime    string
	EventID      string
	EventSource  string
	EventName    string
	EventType    string
	IdentityType string
	IdentityARN  string
	// Outcome is responseElements.ConsoleLogin for sign-ins, "Failure" when errorCode is set,
	// "Success" otherwise.
	Outcome         string
	ErrorCode       string
	SourceIPAddress string
	UserAgent       string
	AWSRegion       string
	// AccountID is recipientAccountId, or userIdentity.accountId when the record has none.
	AccountID string
	// MFAUsed is additionalEventData.MFAUsed, else the session's mfaAuthenticated, else "unknown".
	MFAUsed string
}

// Summarize reads a record's summary; ok is false when msg is not a JSON object with an
// eventSource and an eventName (not a CloudTrail record).
func Summarize(msg []byte) (s Summary, ok bool) {
	var r struct {
		EventTime    string `json:"eventTime"`
		EventID      string `json:"eventID"`
		EventSource  string `json:"eventSource"`
		EventName    string `json:"eventName"`
		EventType    string `json:"eventType"`
		ErrorCode    string `json:"errorCode"`
		SourceIP     string `json:"sourceIPAddress"`
		UserAgent    string `json:"userAgent"`
		AWSRegion    string `json:"awsRegion"`
		Recipient    string `json:"recipientAccountId"`
		UserIdentity struct {
			Type           string `json:"type"`
			ARN            string `json:"arn"`
			AccountID      string `json:"accountId"`
			SessionContext struct {
				Attributes struct {
					MFAAuthenticated any `json:"mfaAuthenticated"`
				} `json:"attributes"`
			} `json:"sessionContext"`
		} `json:"userIdentity"`
		ResponseElements    map[string]any `json:"responseElements"`
		AdditionalEventData map[string]any `json:"additionalEventData"`
	}
	if err := json.Unmarshal(msg, &r); err != nil || r.EventSource == "" || r.EventName == "" {
		return Summary{}, false
	}
	s = Summary{
		EventTime: r.EventTime, EventID: r.EventID, EventSource: r.EventSource, EventName: r.EventName, EventType: r.EventType,
		IdentityType: r.UserIdentity.Type, IdentityARN: r.UserIdentity.ARN, ErrorCode: r.ErrorCode,
		SourceIPAddress: r.SourceIP, UserAgent: r.UserAgent, AWSRegion: r.AWSRegion, AccountID: r.Recipient, MFAUsed: "unknown",
	}
	if s.AccountID == "" {
		s.AccountID = r.UserIdentity.AccountID
	}
	switch {
	case r.ResponseElements["ConsoleLogin"] != nil:
		s.Outcome = fmt.Sprint(r.ResponseElements["ConsoleLogin"])
	case r.ErrorCode != "":
		s.Outcome = "Failure"
	default:
		s.Outcome = "Success"
	}
	if v, ok := r.AdditionalEventData["MFAUsed"]; ok {
		s.MFAUsed = fmt.Sprint(v)
	} else if v := r.UserIdentity.SessionContext.Attributes.MFAAuthenticated; v != nil {
		s.MFAUsed = fmt.Sprint(v)
	}
	return s, true
}
