package tencent

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Environment variables CredentialsFromEnv reads, in order of preference.
const (
	EnvSecretID      = "TENCENTCLOUD_SECRET_ID"
	EnvSecretKey     = "TENCENTCLOUD_SECRET_KEY"
	EnvSessionToken  = "TENCENTCLOUD_SESSION_TOKEN"
	EnvSecurityToken = "TENCENTCLOUD_SECURITY_TOKEN"
	EnvCOSSecretID   = "COS_SECRETID"
	EnvCOSSecretKey  = "COS_SECRETKEY"
	EnvCOSToken      = "COS_SESSIONTOKEN"
)

// CredentialsFromEnv reads credentials with getenv (os.Getenv in main):
// TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY with an optional token
// in TENCENTCLOUD_SESSION_TOKEN or TENCENTCLOUD_SECURITY_TOKEN; when neither
// of that pair is set, COS_SECRETID, COS_SECRETKEY and COS_SESSIONTOKEN.
// Its errors name the variables to set, never their values.
func CredentialsFromEnv(getenv func(string) string) (Credentials, error) {
	idVar, keyVar := EnvSecretID, EnvSecretKey
	tokenVars := []string{EnvSessionToken, EnvSecurityToken}
	if getenv(EnvSecretID) == "" && getenv(EnvSecretKey) == "" {
		idVar, keyVar = EnvCOSSecretID, EnvCOSSecretKey
		tokenVars = []string{EnvCOSToken}
		if getenv(idVar) == "" && getenv(keyVar) == "" {
			return Credentials{}, errors.New("no credentials: set " + EnvSecretID + " and " + EnvSecretKey +
				" (and " + EnvSessionToken + " for temporary credentials)")
		}
	}
	var c Credentials
	c.SecretID, c.SecretKey = getenv(idVar), getenv(keyVar)
	if c.SecretID == "" {
		return Credentials{}, fmt.Errorf("credentials: %s is set but %s is empty: set both", keyVar, idVar)
	}
	if c.SecretKey == "" {
		return Credentials{}, fmt.Errorf("credentials: %s is set but %s is empty: set both", idVar, keyVar)
	}
	if err := checkSpaces(idVar, c.SecretID); err != nil {
		return Credentials{}, err
	}
	if err := checkSpaces(keyVar, c.SecretKey); err != nil {
		return Credentials{}, err
	}
	for _, v := range tokenVars {
		if t := getenv(v); t != "" {
			if err := checkSpaces(v, t); err != nil {
				return Credentials{}, err
			}
			c.SessionToken = t
			break
		}
	}
	return c, nil
}

func checkSpaces(name, value string) error {
	if strings.TrimSpace(value) != value {
		return fmt.Errorf("credentials: %s has leading or trailing white space: remove it", name)
	}
	return nil
}

// Redact returns s with every secret of c (SecretID, SecretKey and
// SessionToken, those of at least 4 bytes), raw or URL-encoded, replaced by
// "[REDACTED]": what Secrets does for the secrets of c.
func (c Credentials) Redact(s string) string {
	secrets := NewSecrets()
	secrets.Add(c)
	return secrets.Redact(s)
}

const redacted = "[REDACTED]"

// String hides the secrets: credentials printed by mistake show nothing.
func (c Credentials) String() string { return "tencent.Credentials{" + redacted + "}" }

// GoString hides the secrets from %#v.
func (c Credentials) GoString() string { return c.String() }

// LogValue hides the secrets from log/slog.
func (c Credentials) LogValue() slog.Value { return slog.StringValue(redacted) }
