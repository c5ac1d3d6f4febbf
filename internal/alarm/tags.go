package alarm

import (
	"context"
	"fmt"
	"strings"
)

// ResourceNotFoundException is the tagging operations' error for an ARN that names no alarm
// (their model uses this shape, unlike SetAlarmState's ResourceNotFound).
type ResourceNotFoundException struct{ Message string }

// Error implements error.
func (e *ResourceNotFoundException) Error() string { return "ResourceNotFoundException: " + e.Message }

// ErrorCode returns "ResourceNotFoundException".
func (e *ResourceNotFoundException) ErrorCode() string { return "ResourceNotFoundException" }

// ErrorMessage returns the message.
func (e *ResourceNotFoundException) ErrorMessage() string { return e.Message }

// HTTPStatusCode is 404, the model's status for the shape.
func (e *ResourceNotFoundException) HTTPStatusCode() int { return 404 }

// alarmByARN resolves an alarm ARN of scope to its entry.
func (s *Service) alarmByARN(scope Scope, arn string) (*entry, error) {
	name, ok := strings.CutPrefix(arn, alarmARNPrefix(scope))
	var e *entry
	if ok && name != "" {
		e = s.get(AlarmKey{scope, name})
	}
	if e == nil || e.rec.Load() == nil {
		// Message in AWS's style (unverified).
		return nil, &ResourceNotFoundException{Message: "The specified resource " + arn + " does not exist."}
	}
	return e, nil
}

// ListTagsForResource returns an alarm's tags.
//
// An alarm ARN of the caller's account and region that names no alarm answers an empty list, not
// ResourceNotFoundException: that is CloudWatch's recorded answer for a deleted alarm (issue 18's
// replay of AWS's answers). Deciding, since trailwatch keeps nothing of deleted alarms, a name that
// never existed answers the same; an ARN that is not an alarm ARN of the caller's account and region
// is still refused with ResourceNotFoundException, as TagResource and UntagResource refuse every
// ARN without an alarm.
func (s *Service) ListTagsForResource(ctx context.Context, scope Scope, arn string) ([]Tag, error) {
	e, err := s.alarmByARN(scope, arn)
	if err != nil {
		if name, ok := strings.CutPrefix(arn, alarmARNPrefix(scope)); ok && name != "" {
			return []Tag{}, nil
		}
		return nil, err
	}
	if r := e.rec.Load(); r != nil {
		return r.Tags, nil
	}
	return []Tag{}, nil // deleted since alarmByARN looked
}

// alarmARNPrefix is the ARN of scope's alarms without the name.
func alarmARNPrefix(scope Scope) string {
	return "arn:aws:cloudwatch:" + scope.Region + ":" + scope.AccountID + ":alarm:"
}

// TagResource adds or replaces tags of an alarm (at most 50 in all).
func (s *Service) TagResource(ctx context.Context, scope Scope, arn string, tags []Tag) error {
	return s.retag(ctx, scope, arn, func(old []Tag) ([]Tag, error) {
		out := append([]Tag(nil), old...)
		for _, t := range tags {
			replaced := false
			for i := range out {
				if out[i].Key == t.Key {
					out[i].Value, replaced = t.Value, true
				}
			}
			if !replaced {
				out = append(out, t)
			}
		}
		if len(out) > 50 {
			return nil, &Error{Code: CodeInvalidParameterValue, Message: "The number of tags exceeds the limit of 50."}
		}
		return out, nil
	})
}

// UntagResource removes tags by key; unknown keys are ignored.
func (s *Service) UntagResource(ctx context.Context, scope Scope, arn string, keys []string) error {
	return s.retag(ctx, scope, arn, func(old []Tag) ([]Tag, error) {
		var out []Tag
		for _, t := range old {
			keep := true
			for _, k := range keys {
				keep = keep && t.Key != k
			}
			if keep {
				out = append(out, t)
			}
		}
		return out, nil
	})
}

func (s *Service) retag(ctx context.Context, scope Scope, arn string, edit func([]Tag) ([]Tag, error)) error {
	e, err := s.alarmByARN(scope, arn)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	old := e.rec.Load()
	if old == nil {
		return &ResourceNotFoundException{Message: "The specified resource " + arn + " does not exist."}
	}
	tags, err := edit(old.Tags)
	if err != nil {
		return err
	}
	r := old.clone()
	r.Tags = tags
	if err := s.store.Apply(ctx, Change{Put: []*Record{r}}); err != nil {
		return fmt.Errorf("store tags: %w", err)
	}
	e.rec.Store(r)
	return nil
}
