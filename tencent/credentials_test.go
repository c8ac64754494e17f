package tencent

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestCredentialsFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Credentials
		wantErr string // substring of the error; "" means no error
	}{
		{"tencentcloud pair", map[string]string{EnvSecretID: "AKID1", EnvSecretKey: "key1"}, Credentials{"AKID1", "key1", ""}, ""},
		{"session token", map[string]string{EnvSecretID: "AKID1", EnvSecretKey: "key1", EnvSessionToken: "tok"}, Credentials{"AKID1", "key1", "tok"}, ""},
		{"security token", map[string]string{EnvSecretID: "AKID1", EnvSecretKey: "key1", EnvSecurityToken: "tok2"}, Credentials{"AKID1", "key1", "tok2"}, ""},
		{"session token preferred", map[string]string{EnvSecretID: "AKID1", EnvSecretKey: "key1", EnvSessionToken: "a", EnvSecurityToken: "b"}, Credentials{"AKID1", "key1", "a"}, ""},
		{"cos pair", map[string]string{EnvCOSSecretID: "AKID2", EnvCOSSecretKey: "key2", EnvCOSToken: "t2"}, Credentials{"AKID2", "key2", "t2"}, ""},
		{"tencentcloud pair wins", map[string]string{EnvSecretID: "AKID1", EnvSecretKey: "key1", EnvCOSSecretID: "AKID2", EnvCOSSecretKey: "key2", EnvCOSToken: "t2"}, Credentials{"AKID1", "key1", ""}, ""},
		{"cos pair ignores tencentcloud token", map[string]string{EnvCOSSecretID: "AKID2", EnvCOSSecretKey: "key2", EnvSessionToken: "t"}, Credentials{"AKID2", "key2", ""}, ""},
		{"nothing set", map[string]string{}, Credentials{}, "TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY"},
		{"key missing", map[string]string{EnvSecretID: "AKID1"}, Credentials{}, "TENCENTCLOUD_SECRET_KEY is empty"},
		{"id missing", map[string]string{EnvSecretKey: "key1"}, Credentials{}, "TENCENTCLOUD_SECRET_ID is empty"},
		{"cos id missing", map[string]string{EnvCOSSecretKey: "key2"}, Credentials{}, "COS_SECRETID is empty"},
		{"trailing newline", map[string]string{EnvSecretID: "AKID1", EnvSecretKey: "key1\n"}, Credentials{}, "TENCENTCLOUD_SECRET_KEY has leading or trailing white space"},
		{"leading space", map[string]string{EnvSecretID: " AKID1", EnvSecretKey: "key1"}, Credentials{}, "TENCENTCLOUD_SECRET_ID has leading"},
		{"token space", map[string]string{EnvSecretID: "AKID1", EnvSecretKey: "key1", EnvSessionToken: "tokvalue "}, Credentials{}, "TENCENTCLOUD_SESSION_TOKEN has leading"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CredentialsFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("CredentialsFromEnv(%s) error = %v, want one containing %q", tt.name, err, tt.wantErr)
				}
				for _, v := range tt.env {
					if strings.TrimSpace(v) != "" && strings.Contains(err.Error(), strings.TrimSpace(v)) {
						t.Errorf("error %q shows the value %q", err, v)
					}
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("CredentialsFromEnv(%s) = %q %q %q, %v; want %q %q %q", tt.name,
					got.SecretID, got.SecretKey, got.SessionToken, err, tt.want.SecretID, tt.want.SecretKey, tt.want.SessionToken)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	c := Credentials{SecretID: "AKIDabcdef", SecretKey: "s3cr3t+key/==", SessionToken: "tok"} // the token is too short to redact
	tests := []struct{ in, want string }{
		{"id AKIDabcdef key s3cr3t+key/==", "id [REDACTED] key [REDACTED]"},
		{"encoded s3cr3t%2Bkey%2F%3D%3D", "encoded [REDACTED]"},
		{"form s3cr3t%2Bkey%2F%3D%3D", "form [REDACTED]"},
		{"short tok stays", "short tok stays"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := c.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCredentialsNeverPrinted(t *testing.T) {
	c := Credentials{SecretID: "AKIDabcdef", SecretKey: "secretvalue", SessionToken: "tokenvalue"}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "creds", c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%v", &c), b.String()} {
		if strings.Contains(s, "secretvalue") || strings.Contains(s, "tokenvalue") || strings.Contains(s, "AKIDabcdef") {
			t.Errorf("credentials printed as %q", s)
		}
	}
}
