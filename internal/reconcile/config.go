package reconcile

import (
	"errors"
	"time"
)

// Config configures the reconcile.
type Config struct {
	// Interval between full runs (default 15m). Full runs find removals.
	Interval time.Duration `yaml:"interval"`
	// PollInterval between incremental polls on the directory's change
	// timestamps (default 5s; 0 keeps the default, negative disables).
	PollInterval time.Duration `yaml:"poll_interval"`
	// Skew is subtracted from the high-water mark of incremental polls, to
	// absorb clock differences and same-second changes (default 2s).
	Skew time.Duration `yaml:"skew"`
	// ScopeGroups: when set, only members of these groups (by name, nested
	// membership included) are provisioned. Leaving scope deprovisions.
	ScopeGroups []string `yaml:"scope_groups"`
	// NestedGroups makes a member of a sub-group a member of its parents
	// (cycles are cut).
	NestedGroups bool `yaml:"nested_groups"`
	// Adopt takes over resources a SCIM client pushed, matched by
	// externalId, then userName (groups: displayName). Off, they are left
	// alone and reported as conflicts.
	Adopt bool `yaml:"adopt"`
	// Guard: a run deprovisioning more than max(MaxDeprovisionPercent% of the
	// managed users, MaxDeprovisionCount) applies nothing until forced.
	MaxDeprovisionPercent float64 `yaml:"max_deprovision_percent"`
	MaxDeprovisionCount   int     `yaml:"max_deprovision_count"`
}

// SetDefaults fills defaults.
func (c *Config) SetDefaults() {
	if c.Interval <= 0 {
		c.Interval = 15 * time.Minute
	}
	if c.PollInterval == 0 {
		c.PollInterval = 5 * time.Second
	}
	if c.Skew <= 0 {
		c.Skew = 2 * time.Second
	}
	if c.MaxDeprovisionPercent == 0 {
		c.MaxDeprovisionPercent = 10
	}
	if c.MaxDeprovisionCount == 0 {
		c.MaxDeprovisionCount = 25
	}
}

// Validate reports configuration problems.
func (c *Config) Validate() []error {
	var errs []error
	if c.MaxDeprovisionPercent < 0 || c.MaxDeprovisionPercent > 100 {
		errs = append(errs, errors.New("max_deprovision_percent must be between 0 and 100"))
	}
	if c.MaxDeprovisionCount < 0 {
		errs = append(errs, errors.New("max_deprovision_count must not be negative"))
	}
	return errs
}

// guardLimit is how many deprovisions a run may make unforced.
func (c *Config) guardLimit(managed int) int {
	return max(int(float64(managed)*c.MaxDeprovisionPercent/100), c.MaxDeprovisionCount)
}
