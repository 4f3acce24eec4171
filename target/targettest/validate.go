package targettest

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// requestShape is the part of a DeliveryRequest whose presence the edge
// checks. The models leave absent and zero alike (an index of 0 is valid,
// a missing one is not), so validation decodes the body a second time into
// pointers.
type requestShape struct {
	RequestID    *string    `json:"requestId"`
	ImpressionID *string    `json:"impressionId"`
	ID           *idShape   `json:"id"`
	Property     *tokenOnly `json:"property"`
	Trace        *struct {
		AuthorizationToken *string `json:"authorizationToken"`
	} `json:"trace"`
	Context *struct {
		Channel        *string `json:"channel"`
		MobilePlatform *struct {
			DeviceType   *string `json:"deviceType"`
			PlatformType *string `json:"platformType"`
		} `json:"mobilePlatform"`
	} `json:"context"`
	ExperienceCloud *struct {
		AudienceManager *struct {
			LocationHint *int64  `json:"locationHint"`
			Blob         *string `json:"blob"`
		} `json:"audienceManager"`
		Analytics *struct {
			SupplementalDataID *string `json:"supplementalDataId"`
			Logging            *string `json:"logging"`
		} `json:"analytics"`
	} `json:"experienceCloud"`
	Execute *struct {
		Mboxes []*mboxShape `json:"mboxes"`
	} `json:"execute"`
	Prefetch *struct {
		Views []*struct {
			Name *string `json:"name"`
			Key  *string `json:"key"`
		} `json:"views"`
		Mboxes []*mboxShape `json:"mboxes"`
	} `json:"prefetch"`
	Notifications []*struct {
		ID        *string                 `json:"id"`
		Type      *string                 `json:"type"`
		Timestamp *int64                  `json:"timestamp"`
		Mbox      *struct{ Name *string } `json:"mbox"`
		View      *struct{ Name *string } `json:"view"`
	} `json:"notifications"`
}

type tokenOnly struct {
	Token *string `json:"token"`
}

type idShape struct {
	TntID       *string `json:"tntId"`
	CustomerIDs []*struct {
		ID                 *string `json:"id"`
		IntegrationCode    *string `json:"integrationCode"`
		AuthenticatedState *string `json:"authenticatedState"`
	} `json:"customerIds"`
}

type mboxShape struct {
	Index      *int32            `json:"index"`
	Name       *string           `json:"name"`
	Parameters map[string]string `json:"parameters"`
}

// validate applies the specification's rules, in document order, and
// returns the first violation.
func (r *requestShape) validate() *requestError {
	if err := maxLen("requestId", r.RequestID, 128); err != nil {
		return err
	}
	if err := maxLen("impressionId", r.ImpressionID, 128); err != nil {
		return err
	}
	if err := r.ID.validate(); err != nil {
		return err
	}
	if r.Property != nil && empty(r.Property.Token) {
		return badRequest("property.token is required when property is given")
	}
	if r.Trace != nil && empty(r.Trace.AuthorizationToken) {
		return badRequest("trace.authorizationToken is required when trace is given")
	}
	if err := r.validateContext(); err != nil {
		return err
	}
	if ec := r.ExperienceCloud; ec != nil && ec.AudienceManager != nil {
		am := ec.AudienceManager
		if am.LocationHint != nil && *am.LocationHint < 1 {
			return badRequest("experienceCloud.audienceManager.locationHint must be at least 1")
		}
		if am.Blob != nil && strings.TrimSpace(*am.Blob) == "" {
			return badRequest("experienceCloud.audienceManager.blob must not be blank")
		}
		if err := maxLen("experienceCloud.audienceManager.blob", am.Blob, 1024); err != nil {
			return err
		}
	}
	if ec := r.ExperienceCloud; ec != nil && ec.Analytics != nil {
		a := ec.Analytics
		if a.SupplementalDataID != nil && *a.SupplementalDataID != "" && len(*a.SupplementalDataID) != 33 {
			return badRequest("experienceCloud.analytics.supplementalDataId %q is not 33 characters long", *a.SupplementalDataID)
		}
		if err := oneOf("experienceCloud.analytics.logging", a.Logging, false, "server_side", "client_side"); err != nil {
			return err
		}
	}
	if r.Execute != nil {
		if err := validateMboxes("execute.mboxes", r.Execute.Mboxes); err != nil {
			return err
		}
	}
	if p := r.Prefetch; p != nil {
		for i, v := range p.Views {
			where := fmt.Sprintf("prefetch.views[%d]", i)
			if v == nil {
				return badRequest("%s is null", where)
			}
			if err := maxLen(where+".name", v.Name, 128); err != nil {
				return err
			}
			if err := maxLen(where+".key", v.Key, 512); err != nil {
				return err
			}
		}
		if err := validateMboxes("prefetch.mboxes", p.Mboxes); err != nil {
			return err
		}
	}
	return r.validateNotifications()
}

func (id *idShape) validate() *requestError {
	if id == nil {
		return nil
	}
	if err := maxLen("id.tntId", id.TntID, 128); err != nil {
		return err
	}
	// A dot may only separate the location hint: "{id}.{cluster}_{node}".
	if id.TntID != nil && strings.Count(*id.TntID, ".") > 1 {
		return badRequest("id.tntId %q has more than one '.'; a dot may only delimit the location hint", *id.TntID)
	}
	if len(id.CustomerIDs) > 50 {
		return badRequest("id.customerIds has %d entries; at most 50 are allowed", len(id.CustomerIDs))
	}
	for i, c := range id.CustomerIDs {
		where := fmt.Sprintf("id.customerIds[%d]", i)
		switch {
		case c == nil:
			return badRequest("%s is null", where)
		case empty(c.ID):
			return badRequest("%s.id is required", where)
		case empty(c.IntegrationCode):
			return badRequest("%s.integrationCode is required", where)
		}
		if err := oneOf(where+".authenticatedState", c.AuthenticatedState, true, "unknown", "authenticated", "logged_out"); err != nil {
			return err
		}
	}
	return nil
}

func (r *requestShape) validateContext() *requestError {
	c := r.Context
	if c == nil {
		return badRequest("context is required")
	}
	if err := oneOf("context.channel", c.Channel, true, "mobile", "web"); err != nil {
		return err
	}
	if mp := c.MobilePlatform; mp != nil {
		if err := oneOf("context.mobilePlatform.deviceType", mp.DeviceType, true, "phone", "tablet"); err != nil {
			return err
		}
		if err := oneOf("context.mobilePlatform.platformType", mp.PlatformType, true, "android", "ios"); err != nil {
			return err
		}
	}
	return nil
}

// validateMboxes checks one execute or prefetch mbox list: names given,
// indexes given and unique (they correlate answers with requests), and the
// mbox parameter rules.
func validateMboxes(list string, mboxes []*mboxShape) *requestError {
	seen := make(map[int32]int, len(mboxes))
	for i, m := range mboxes {
		where := fmt.Sprintf("%s[%d]", list, i)
		switch {
		case m == nil:
			return badRequest("%s is null", where)
		case m.Name == nil || strings.TrimSpace(*m.Name) == "":
			return badRequest("%s.name is required and must not be blank", where)
		case m.Index == nil:
			return badRequest("%s.index is required", where)
		}
		if j, dup := seen[*m.Index]; dup {
			return badRequest("%s.index %d is not unique: %s[%d] has it too", where, *m.Index, list, j)
		}
		seen[*m.Index] = i
		if err := validateParameters(where+".parameters", m.Parameters); err != nil {
			return err
		}
	}
	return nil
}

func validateParameters(where string, params map[string]string) *requestError {
	if len(params) > 50 {
		return badRequest("%s has %d entries; at most 50 are allowed", where, len(params))
	}
	for name, value := range params {
		switch {
		case strings.TrimSpace(name) == "":
			return badRequest("%s has a blank name", where)
		case utf8.RuneCountInString(name) > 128:
			return badRequest("%s name %q is longer than 128 characters", where, name)
		case strings.HasPrefix(name, "profile."):
			return badRequest("%s name %q starts with 'profile.'; send it in profileParameters", where, name)
		case utf8.RuneCountInString(value) > 5000:
			return badRequest("%s[%q] is longer than 5000 characters", where, name)
		}
	}
	return nil
}

func (r *requestShape) validateNotifications() *requestError {
	for i, n := range r.Notifications {
		where := fmt.Sprintf("notifications[%d]", i)
		if n == nil {
			return badRequest("%s is null", where)
		}
		if empty(n.ID) {
			return badRequest("%s.id is required", where)
		}
		if err := maxLen(where+".id", n.ID, 200); err != nil {
			return err
		}
		if err := oneOf(where+".type", n.Type, true, "click", "display"); err != nil {
			return err
		}
		switch {
		case n.Timestamp == nil:
			return badRequest("%s.timestamp is required (milliseconds since the epoch)", where)
		case *n.Timestamp <= 0:
			return badRequest("%s.timestamp %d is not a time in milliseconds since the epoch", where, *n.Timestamp)
		case n.Mbox != nil && n.View != nil:
			return badRequest("%s has both mbox and view; they are mutually exclusive", where)
		case n.Mbox != nil && empty(n.Mbox.Name):
			return badRequest("%s.mbox.name is required when mbox is given", where)
		}
	}
	return nil
}

func empty(s *string) bool { return s == nil || *s == "" }

func maxLen(field string, s *string, n int) *requestError {
	if s != nil && utf8.RuneCountInString(*s) > n {
		return badRequest("%s is longer than %d characters", field, n)
	}
	return nil
}

// oneOf checks an enum field.
func oneOf(field string, v *string, required bool, allowed ...string) *requestError {
	if v == nil {
		if required {
			return badRequest("%s is required", field)
		}
		return nil
	}
	for _, a := range allowed {
		if *v == a {
			return nil
		}
	}
	return badRequest("%s %q is not one of %s", field, *v, strings.Join(allowed, ", "))
}
