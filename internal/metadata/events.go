package metadata

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/robfig/cron/v3"
)

// EventTrigger is one of a table's event_triggers: a webhook called after
// each insert, update or delete of the table's rows.
type EventTrigger struct {
	Name       string            `yaml:"name"`
	Definition TriggerDefinition `yaml:"definition"`
	RetryConf  EventRetryConf    `yaml:"retry_conf"`
	// Webhook may hold {{ENV_VAR}} templates; WebhookFromEnv names the
	// variable that holds the whole URL instead.
	Webhook           string         `yaml:"webhook"`
	WebhookFromEnv    string         `yaml:"webhook_from_env"`
	Headers           []Header       `yaml:"headers"`
	RequestTransform  map[string]any `yaml:"request_transform"`
	ResponseTransform map[string]any `yaml:"response_transform"`
	CleanupConfig     map[string]any `yaml:"cleanup_config"`
}

// TriggerDefinition says which writes fire the trigger.
type TriggerDefinition struct {
	EnableManual bool           `yaml:"enable_manual"`
	Insert       *OperationSpec `yaml:"insert"`
	Update       *OperationSpec `yaml:"update"`
	Delete       *OperationSpec `yaml:"delete"`
}

// OperationSpec is one operation of a trigger: Columns are those whose
// change fires an update ("*": any), Payload those the event carries
// (absent: all).
type OperationSpec struct {
	Columns Columns  `yaml:"columns"`
	Payload *Columns `yaml:"payload"`
}

// EventRetryConf is an event trigger's retry_conf; nil fields take
// Hasura's defaults (no retry, 10 s apart, 60 s a call).
type EventRetryConf struct {
	NumRetries  *int `yaml:"num_retries"`
	IntervalSec *int `yaml:"interval_sec"`
	TimeoutSec  *int `yaml:"timeout_sec"`
}

// Header is a header sent with a webhook call: a value, or the value of an
// environment variable.
type Header struct {
	Name         string `yaml:"name"`
	Value        string `yaml:"value"`
	ValueFromEnv string `yaml:"value_from_env"`
}

// CronTrigger is one of cron_triggers.yaml: a webhook called on a schedule.
type CronTrigger struct {
	Name              string         `yaml:"name"`
	Webhook           string         `yaml:"webhook"`
	Schedule          string         `yaml:"schedule"`
	Payload           any            `yaml:"payload"`
	Headers           []Header       `yaml:"headers"`
	RetryConf         CronRetryConf  `yaml:"retry_conf"`
	IncludeInMetadata bool           `yaml:"include_in_metadata"`
	Comment           string         `yaml:"comment"`
	RequestTransform  map[string]any `yaml:"request_transform"`
	ResponseTransform map[string]any `yaml:"response_transform"`
	File              string         `yaml:"-"`
}

// CronRetryConf is a cron trigger's retry_conf; nil fields take Hasura's
// defaults (no retry, 10 s apart, 60 s a call, 6 hours' tolerance).
type CronRetryConf struct {
	NumRetries           *int `yaml:"num_retries"`
	RetryIntervalSeconds *int `yaml:"retry_interval_seconds"`
	TimeoutSeconds       *int `yaml:"timeout_seconds"`
	ToleranceSeconds     *int `yaml:"tolerance_seconds"`
}

// triggerName is Hasura's rule for trigger names (at most 42 characters,
// so that PostgreSQL's trigger names built from them stay under 63).
var triggerName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,41}$`)

// CronSchedule parses a cron trigger's schedule: five fields, in UTC.
func CronSchedule(spec string) (cron.Schedule, error) {
	return cron.ParseStandard("TZ=UTC " + spec)
}

// checkEventTriggers refuses what the decoder cannot in a table's event
// triggers; seen holds the names of the source's triggers so far.
func checkEventTriggers(t *Table, seen map[string]string, bad func(string, ...any) error) error {
	for _, et := range t.EventTriggers {
		if !triggerName.MatchString(et.Name) {
			return bad("event trigger %q: a name is a letter, then up to 41 letters, digits, _ or -", et.Name)
		}
		if other, dup := seen[et.Name]; dup {
			return bad("event trigger %q is defined twice (also in %s)", et.Name, other)
		}
		seen[et.Name] = t.File
		d := et.Definition
		if d.Insert == nil && d.Update == nil && d.Delete == nil && !d.EnableManual {
			return bad("event trigger %q: its definition names no operation (insert, update, delete or enable_manual)", et.Name)
		}
		if (et.Webhook == "") == (et.WebhookFromEnv == "") {
			return bad("event trigger %q needs webhook or webhook_from_env, not both", et.Name)
		}
		if err := checkHeaders(et.Headers); err != nil {
			return bad("event trigger %q: %s", et.Name, err)
		}
		for _, n := range []*int{et.RetryConf.NumRetries, et.RetryConf.IntervalSec} {
			if n != nil && *n < 0 {
				return bad("event trigger %q: retry_conf values cannot be negative", et.Name)
			}
		}
		if n := et.RetryConf.TimeoutSec; n != nil && *n <= 0 {
			return bad("event trigger %q: retry_conf.timeout_sec must be positive", et.Name)
		}
	}
	return nil
}

// checkCronTrigger refuses a cron trigger that cannot run.
func checkCronTrigger(c *CronTrigger) error {
	if !triggerName.MatchString(c.Name) {
		return fmt.Errorf("cron trigger %q: a name is a letter, then up to 41 letters, digits, _ or -", c.Name)
	}
	if c.Webhook == "" {
		return fmt.Errorf("cron trigger %q needs a webhook", c.Name)
	}
	if strings.HasPrefix(strings.TrimSpace(c.Schedule), "@every") {
		return fmt.Errorf("cron trigger %q: schedule %q: @every is not a cron expression (its times would differ between instances)", c.Name, c.Schedule)
	}
	if _, err := CronSchedule(c.Schedule); err != nil {
		return fmt.Errorf("cron trigger %q: schedule %q: %s", c.Name, c.Schedule, err)
	}
	if err := checkHeaders(c.Headers); err != nil {
		return fmt.Errorf("cron trigger %q: %s", c.Name, err)
	}
	r := c.RetryConf
	for _, v := range []*int{r.NumRetries, r.RetryIntervalSeconds} {
		if v != nil && *v < 0 {
			return fmt.Errorf("cron trigger %q: retry_conf values cannot be negative", c.Name)
		}
	}
	for _, v := range []*int{r.TimeoutSeconds, r.ToleranceSeconds} {
		if v != nil && *v <= 0 {
			return fmt.Errorf("cron trigger %q: retry_conf timeout_seconds and tolerance_seconds must be positive", c.Name)
		}
	}
	return nil
}

func checkHeaders(headers []Header) error {
	for _, h := range headers {
		if h.Name == "" {
			return fmt.Errorf("a header has no name")
		}
		if h.Value != "" && h.ValueFromEnv != "" {
			return fmt.Errorf("header %q needs value or value_from_env, not both", h.Name)
		}
	}
	return nil
}
