// Package config reads the service's settings from the environment once, at start-up,
// with errors that name the variable, the way the Python services' pasar_kit.config does:
// the same variables, the same defaults and the same refusals in production.
package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Error is a setting that is missing or malformed; its message names the variable.
type Error struct{ Message string }

func (e *Error) Error() string { return e.Message }

func errorf(format string, args ...any) error { return &Error{Message: fmt.Sprintf(format, args...)} }

// The two environments PASAR_ENV names.
const (
	Development = "development"
	Production  = "production"
)

// MinimumSecretBytes is the shortest secret production accepts: 32 bytes of randomness
// are out of reach of guessing (docker/make-env writes 48 hex digits).
const MinimumSecretBytes = 32

// developmentSecrets are every development default of every component's secrets. They
// are published in the repository, so production refuses each of them for every secret,
// as pasar_kit.config.DEVELOPMENT_SECRETS does.
var developmentSecrets = map[string]bool{
	"dev-admin-token":           true,
	"dev-webhook-secret":        true,
	"dev-order-token-secret":    true,
	"dev-order-caller-token":    true,
	"dev-biller-webhook-secret": true,
}

// Env gives typed access to environment variables; an empty value counts as unset.
type Env struct{ values map[string]string }

// NewEnv reads environ, as os.Environ gives it.
func NewEnv(environ []string) Env {
	values := make(map[string]string, len(environ))
	for _, entry := range environ {
		if name, value, ok := strings.Cut(entry, "="); ok {
			values[name] = value
		}
	}
	return Env{values: values}
}

// EnvFrom is an Env over a map, for tests.
func EnvFrom(values map[string]string) Env { return Env{values: values} }

// Environment is PASAR_ENV: development (the default) or production.
func (e Env) Environment() (string, error) {
	value := e.values["PASAR_ENV"]
	if value == "" {
		return Development, nil
	}
	if value != Development && value != Production {
		return "", errorf("PASAR_ENV must be %s or %s, not %s", quote(Development), quote(Production), quote(value))
	}
	return value, nil
}

// String is the variable's value, or fallback when it is unset.
func (e Env) String(name, fallback string) string {
	if value := e.values[name]; value != "" {
		return value
	}
	return fallback
}

// Required is the variable's value; an error names it when it is unset.
func (e Env) Required(name string) (string, error) {
	if value := e.values[name]; value != "" {
		return value, nil
	}
	return "", errorf("%s is required", name)
}

// Number is the variable as a decimal number of at least minimum.
func (e Env) Number(name string, fallback, minimum float64) (float64, error) {
	raw := e.values[name]
	if raw == "" {
		return fallback, nil
	}
	value, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil {
		return 0, errorf("%s must be a number, not %s", name, quote(raw))
	}
	if value < minimum {
		return 0, errorf("%s must be at least %s, not %s", name, formatNumber(minimum), formatNumber(value))
	}
	return value, nil
}

// Flag is the variable as true (1, true, yes, on) or false (0, false, no, off).
func (e Env) Flag(name string, fallback bool) (bool, error) {
	raw := strings.ToLower(strings.TrimSpace(e.values[name]))
	switch raw {
	case "":
		return fallback, nil
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, errorf("%s must be true or false, not %s", name, quote(raw))
}

// Secret is a secret whose development default works only in development. In production
// it is refused when missing, equal to any development default or shorter than
// MinimumSecretBytes: every such value is public or guessable.
func (e Env) Secret(name, developmentDefault string) (string, error) {
	environment, err := e.Environment()
	if err != nil {
		return "", err
	}
	value := e.values[name]
	if environment == Development {
		if value == "" {
			return developmentDefault, nil
		}
		return value, nil
	}
	return value, CheckProductionSecret(name, value, developmentDefault)
}

// CheckProductionSecret refuses, naming the variable, a value that may not be a
// production secret.
func CheckProductionSecret(name, value, developmentDefault string) error {
	switch {
	case value == "":
		return errorf("%s is required when PASAR_ENV is %s", name, quote(Production))
	case developmentSecrets[value] || value == developmentDefault:
		return errorf("%s must not be a development default when PASAR_ENV is %s", name, quote(Production))
	case len(value) < MinimumSecretBytes:
		return errorf("%s must be at least %d bytes when PASAR_ENV is %s (make a random one: openssl rand -hex 32)",
			name, MinimumSecretBytes, quote(Production))
	}
	return nil
}

// quote writes a value as Python's repr writes a string, so that messages read as the
// Python services' do.
func quote(value string) string { return "'" + strings.ReplaceAll(value, "'", `\'`) + "'" }

func formatNumber(value float64) string { return strconv.FormatFloat(value, 'g', -1, 64) }
