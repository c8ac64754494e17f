package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/emulator"
)

const testRoleARN = "qcs::cam::uin/100000000001:roleName/wftrigger-test"

// issuerEmulator is an emulator that also serves a CVM metadata service
// (role wfrole) and STS for testRoleARN, its credentials living life.
func issuerEmulator(t *testing.T, life time.Duration, overstate ...time.Duration) (*emulator.Server, string) {
	t.Helper()
	var over time.Duration
	if len(overstate) > 0 {
		over = overstate[0]
	}
	srv := emulator.New(emulator.Config{
		SecretID: emulatorSecretID, SecretKey: emulatorSecretKey,
		Bucket: emulatorBucket, Workflows: []string{emulatorWorkflow}, Seed: 11,
		Issuer: emulator.IssuerConfig{Role: "wfrole", RoleARN: testRoleARN, WebIdentityToken: "jwt-pod-identity-token", Life: life, Overstate: over},
	})
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, url
}

// credentialEnv is the test process's environment without any credential
// variable, with HOME in a fresh folder, plus extra.
func credentialEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "TENCENTCLOUD_") || strings.HasPrefix(name, "COS_") || strings.HasPrefix(name, "TKE_") ||
			strings.HasPrefix(name, "WFTRIGGER_") || name == "HOME" || name == "USERPROFILE" {
			continue
		}
		env = append(env, kv)
	}
	return append(append(env, "WFTRIGGER_TEST_AS_MAIN=1", "HOME="+t.TempDir()), extra...)
}

// runChild runs the test binary as wftrigger with env and returns its exit
// status, output and how long it took.
func runChild(t *testing.T, env []string, args ...string) (code int, stdout, stderr string, took time.Duration) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	took = time.Since(start)
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String(), took
}

func TestCredentialSources(t *testing.T) {
	srv, url := issuerEmulator(t, time.Hour)
	dir := t.TempDir()
	profile := filepath.Join(dir, "credentials")
	os.WriteFile(profile, []byte("[default]\nsecret_id = "+emulatorSecretID+"\nsecret_key = "+emulatorSecretKey+"\n"), 0o600)
	tokenFile := filepath.Join(dir, "token")
	os.WriteFile(tokenFile, []byte("jwt-pod-identity-token\n"), 0o600)
	oidc := []string{"TKE_REGION=ap-guangzhou", "TKE_PROVIDER_ID=cls-test", "TKE_WEB_IDENTITY_TOKEN_FILE=" + tokenFile,
		"TKE_ROLE_ARN=" + testRoleARN, "WFTRIGGER_STS_ENDPOINT=" + url}
	closed := "WFTRIGGER_METADATA_ENDPOINT=http://127.0.0.1:1"
	tests := []struct {
		name   string
		flag   string
		env    []string
		source string // in the credentials log line
	}{
		{"env", "auto", []string{"TENCENTCLOUD_SECRET_ID=" + emulatorSecretID, "TENCENTCLOUD_SECRET_KEY=" + emulatorSecretKey}, "env (TENCENTCLOUD_SECRET_ID)"},
		{"profile file", "auto", []string{"TENCENTCLOUD_CREDENTIALS_FILE=" + profile, closed}, "profile (" + profile + ")"},
		{"oidc", "auto", append([]string{closed}, oidc...), "oidc (role " + testRoleARN + ")"},
		{"cvm-role after all others", "auto", []string{"WFTRIGGER_METADATA_ENDPOINT=" + url}, "cvm-role (role wfrole)"},
		{"cvm-role chosen", "cvm-role", append([]string{"WFTRIGGER_METADATA_ENDPOINT=" + url, "TENCENTCLOUD_CREDENTIALS_FILE=" + profile}, oidc...), "cvm-role (role wfrole)"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := []string{fmt.Sprintf("src%d/a.mp4", i), fmt.Sprintf("src%d/b.mp4", i)}
			manifest := filepath.Join(t.TempDir(), "keys.txt")
			writeLines(t, manifest, keys)
			rep := filepath.Join(t.TempDir(), "r.json")
			code, out, errOut, _ := runChild(t, credentialEnv(t, tt.env...), runArgs(url, rep, "--manifest", manifest, "--credentials", tt.flag)...)
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			if !regexp.MustCompile(`msg=credentials run=[0-9a-f]{8} source="` + regexp.QuoteMeta(tt.source) + `"`).MatchString(errOut) {
				t.Errorf("stderr does not log the source %q:\n%s", tt.source, errOut)
			}
			counts := srv.TriggerCounts()
			for _, k := range keys {
				if n := counts[emulator.TriggerKey{WorkflowID: emulatorWorkflow, Key: k}]; n != 1 {
					t.Errorf("%s triggered %d times, want 1", k, n)
				}
			}
			for _, s := range append(srv.MintedSecrets(), "jwt-pod-identity-token", emulatorSecretKey) {
				if strings.Contains(out+errOut, s) {
					t.Errorf("output shows the secret %q", s)
				}
			}
		})
	}
}

func TestNoCredentialsExits2(t *testing.T) {
	for _, flag := range []string{"auto", "env", "profile", "oidc", "cvm-role"} {
		t.Run(flag, func(t *testing.T) {
			code, _, errOut, took := runChild(t, credentialEnv(t, "WFTRIGGER_METADATA_ENDPOINT=http://127.0.0.1:1"),
				"run", "--bucket", emulatorBucket, "--region", "ap-guangzhou", "--workflow", emulatorWorkflow, "--prefix", "", "--credentials", flag)
			if code != 2 {
				t.Fatalf("exit %d, want 2:\n%s", code, errOut)
			}
			if took > 10*time.Second {
				t.Errorf("took %v to find no credentials", took)
			}
			if !strings.Contains(errOut, "hint: export TENCENTCLOUD_SECRET_ID") {
				t.Errorf("no hint:\n%s", errOut)
			}
			if flag == "auto" {
				for _, s := range []string{"tried env (", "profile (", "oidc (", "cvm-role (http://127.0.0.1:1"} {
					if !strings.Contains(errOut, s) {
						t.Errorf("the error does not name %q:\n%s", s, errOut)
					}
				}
			}
		})
	}
}

// TestRunOutlivesCredentials runs the real binary for several lifetimes of
// its credentials (2 s, from the CVM metadata service): every object is
// triggered once, and no secret ever handed out appears in any output. In
// the second case the metadata service announces a later expiry than the
// real one, so that calls are answered ExpiredToken and sent again with
// renewed credentials.
func TestRunOutlivesCredentials(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for about 12 s")
	}
	t.Run("renewed ahead", func(t *testing.T) { runOutlivesCredentials(t, 64, 0) })
	t.Run("renewed on ExpiredToken", func(t *testing.T) { runOutlivesCredentials(t, 48, 10*time.Second) })
}

func runOutlivesCredentials(t *testing.T, n int, overstate time.Duration) {
	srv, url := issuerEmulator(t, 2*time.Second, overstate)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("lifetimes/%03d.mp4", i)
	}
	dir := t.TempDir()
	manifest := filepath.Join(dir, "keys.txt")
	writeLines(t, manifest, keys)
	rep := filepath.Join(dir, "r.json")
	args := runArgs(url, rep, "--manifest", manifest, "--concurrency", "4", "--log-format", "json")
	for i, a := range args {
		if a == "--qps" {
			args[i+1] = "8" // 8 objects a second: 48 objects, six seconds, three lifetimes
		}
	}
	code, out, errOut, took := runChild(t, credentialEnv(t, "WFTRIGGER_METADATA_ENDPOINT="+url), args...)
	if code != 0 {
		t.Fatalf("exit %d after %v\n%s%s", code, took, out, errOut)
	}
	st := srv.IssuerStats()
	t.Logf("%d objects in %v: %d credentials minted, %d calls answered ExpiredToken", len(keys), took.Round(time.Millisecond), st.Minted, st.Expired)
	if life := 2 * time.Second; took < 2*life || st.Minted < 3 {
		t.Errorf("the run took %v with %d credentials minted: want several lifetimes (≥ 3 credentials)", took, st.Minted)
	}
	if overstate > 0 && st.Expired == 0 {
		t.Error("no call was answered ExpiredToken: the renewal on ExpiredToken was not exercised")
	}
	checkExactlyOnce(t, srv, keys, rep)

	outputs := map[string]string{"stdout": out, "stderr": errOut}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && p != manifest {
			b, _ := os.ReadFile(p)
			outputs[p] = string(b)
		}
		return nil
	})
	if len(outputs) < 3 {
		t.Fatalf("no report found in %s", dir)
	}
	secrets := srv.MintedSecrets()
	if len(secrets) < 9 {
		t.Fatalf("the emulator remembers %d secrets, want those of ≥ 3 credentials", len(secrets))
	}
	for name, text := range outputs {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s shows the secret %q", name, s)
			}
		}
	}
}

func TestCredentialsFlagIsChecked(t *testing.T) {
	for _, cmd := range [][]string{
		runArgs("http://127.0.0.1:1", filepath.Join(t.TempDir(), "r.json"), "--prefix", "", "--credentials", "keys"),
		{"status", "--report", filepath.Join(t.TempDir(), "none.json"), "--credentials", "keys"},
	} {
		code, _, errOut := wftrigger(t, cmd...)
		if code != 2 || !strings.Contains(errOut, `--credentials "keys" is not a credential source`) {
			t.Errorf("wftrigger %s: exit %d, %s; want 2 naming the flag", strings.Join(cmd, " "), code, errOut)
		}
	}
}
