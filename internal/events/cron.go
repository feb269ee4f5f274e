package events

import (
	"context"
	"time"
)

// upcoming is how many of its next times each cron trigger has in the log,
// as Hasura keeps: times that pass while no instance runs are there to be
// delivered late (within the trigger's tolerance) or marked failed.
const upcoming = 100

// scheduleInterval is how often the cron triggers' times are topped up.
const scheduleInterval = time.Minute

// schedule writes each cron trigger's next times, a row per trigger and
// time (unique: whichever instance writes a time first, it is written
// once), now and every scheduleInterval, and takes out the future times of
// a trigger that no longer has them (its schedule changed, or the trigger
// is gone). Each run does both, so that once the instances of an older
// metadata have stopped, the times they wrote go within a minute.
func (s *Service) schedule(ctx context.Context) {
	for {
		if err := s.writeTimes(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Error("events: writing cron triggers' times", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(scheduleInterval):
		}
	}
}

func (s *Service) writeTimes(ctx context.Context) error {
	now := time.Now()
	var names []string
	for _, t := range s.targets {
		if t.kind != kindCron {
			continue
		}
		names = append(names, t.name)
		times := make([]time.Time, 0, upcoming)
		for next := now; len(times) < upcoming; {
			next = t.schedule.Next(next)
			if next.IsZero() {
				break
			}
			times = append(times, next)
		}
		if _, err := s.cfg.Pool.Exec(ctx, `DELETE FROM freshgraph_event_log WHERE kind = 'cron' AND trigger_name = $1
			AND status = 'pending' AND tries = 0 AND scheduled_time > now() AND scheduled_time <> ALL ($2)`, t.name, times); err != nil {
			return err
		}
		if _, err := s.cfg.Pool.Exec(ctx, `INSERT INTO freshgraph_event_log (kind, trigger_name, scheduled_time, next_attempt_at)
			SELECT 'cron', $1, t, t FROM unnest($2::timestamptz[]) t
			ON CONFLICT (trigger_name, scheduled_time) WHERE kind = 'cron' DO NOTHING`, t.name, times); err != nil {
			return err
		}
	}
	_, err := s.cfg.Pool.Exec(ctx, `DELETE FROM freshgraph_event_log WHERE kind = 'cron' AND NOT trigger_name = ANY ($1)
		AND status = 'pending' AND tries = 0 AND scheduled_time > now()`, names)
	return err
}

// cleanInterval is how often finished rows past Retention are deleted.
const cleanInterval = time.Hour

// clean deletes delivered and failed rows (and their attempts) finished
// more than Retention ago, now and every cleanInterval, a bounded batch
// per statement.
func (s *Service) clean(ctx context.Context) {
	for {
		for ctx.Err() == nil {
			tag, err := s.cfg.Pool.Exec(ctx, `DELETE FROM freshgraph_event_log WHERE id IN (
				SELECT id FROM freshgraph_event_log WHERE status <> 'pending' AND finished_at < now() - make_interval(secs => $1) LIMIT 10000)`,
				s.cfg.Retention.Seconds())
			if err != nil {
				if ctx.Err() == nil {
					s.cfg.Logger.Error("events: deleting finished events", "err", err)
				}
				break
			}
			if tag.RowsAffected() < 10000 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(cleanInterval):
		}
	}
}
