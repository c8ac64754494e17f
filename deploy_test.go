package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// recipeDocs reads a deploy/ YAML file and strictly decodes each of its
// documents into the Kubernetes type of its kind: an unknown or misspelt
// field fails the test, as `kubectl apply --validate=strict` would.
func recipeDocs(t *testing.T, file string) []any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("deploy", file))
	if err != nil {
		t.Fatal(err)
	}
	var docs []any
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(b), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "batch/v1 CronJob":
			obj = &batchv1.CronJob{}
		case "batch/v1 Job":
			obj = &batchv1.Job{}
		case "v1 ServiceAccount":
			obj = &corev1.ServiceAccount{}
		default:
			t.Fatalf("%s: unexpected %s %s", file, tm.APIVersion, tm.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("%s: %s: %v", file, tm.Kind, err)
		}
		docs = append(docs, obj)
	}
	return docs
}

// parseRecipeArgs runs a recipe's `run` arguments through the real flag
// parser and returns --max-duration's value (0 when absent).
func parseRecipeArgs(t *testing.T, args []string) time.Duration {
	t.Helper()
	var stderr bytes.Buffer
	o, err := parseRunFlags(args, io.Discard, &stderr)
	if err != nil {
		t.Errorf("wftrigger run %s: %v %s", strings.Join(args, " "), err, stderr.String())
	}
	return o.maxDuration
}

// checkPodSpec checks the restricted security profile and returns the
// container's args with the completion index filled in.
func checkPodSpec(t *testing.T, file string, spec corev1.PodSpec) []string {
	t.Helper()
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: the pod's securityContext must set runAsNonRoot: true and seccompProfile RuntimeDefault", file)
	}
	if spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("%s: restartPolicy %q, want Never (a rerun resumes from the report)", file, spec.RestartPolicy)
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", file, len(spec.Containers))
	}
	c := spec.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("%s: container securityContext must set allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities drop [ALL]", file)
	}
	if len(c.Args) == 0 || c.Args[0] != "run" {
		t.Fatalf("%s: args %q do not start with run", file, c.Args)
	}
	args := slices.Clone(c.Args[1:])
	for i := range args {
		args[i] = strings.ReplaceAll(args[i], "$(JOB_COMPLETION_INDEX)", "3")
	}
	return args
}

// TestDeployRecipes checks the Kubernetes recipes in deploy/ against the
// Kubernetes API types (strictly) and their args against the real flag
// parser of `wftrigger run`, so that they cannot drift from either.
func TestDeployRecipes(t *testing.T) {
	checkCronJob := func(t *testing.T, file string, cj *batchv1.CronJob) []string {
		s := cj.Spec
		if s.TimeZone == nil || *s.TimeZone == "" || s.StartingDeadlineSeconds == nil || s.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			t.Errorf("%s: want timeZone, startingDeadlineSeconds and concurrencyPolicy: Forbid", file)
		}
		js := s.JobTemplate.Spec
		if js.TTLSecondsAfterFinished == nil || js.ActiveDeadlineSeconds == nil {
			t.Fatalf("%s: want ttlSecondsAfterFinished and activeDeadlineSeconds", file)
		}
		args := checkPodSpec(t, file, js.Template.Spec)
		maxDuration := parseRecipeArgs(t, args)
		if maxDuration == 0 {
			t.Fatalf("%s: a nightly window needs --max-duration", file)
		}
		// The deadline is the window plus grace: the calls in flight, the
		// report's rewrite, the pod's start.
		grace := time.Duration(*js.ActiveDeadlineSeconds)*time.Second - maxDuration
		if grace < time.Minute || grace > time.Hour {
			t.Errorf("%s: activeDeadlineSeconds %d is --max-duration %v + %v; want a grace of 1 min to 1 h",
				file, *js.ActiveDeadlineSeconds, maxDuration, grace)
		}
		if tg := js.Template.Spec.TerminationGracePeriodSeconds; tg == nil || *tg < 30 {
			t.Errorf("%s: terminationGracePeriodSeconds must leave time to write the report (≥ 30)", file)
		}
		return args
	}

	t.Run("cronjob.yaml", func(t *testing.T) {
		docs := recipeDocs(t, "cronjob.yaml")
		cj, ok := docs[0].(*batchv1.CronJob)
		if len(docs) != 1 || !ok {
			t.Fatalf("cronjob.yaml: want one CronJob, got %T", docs)
		}
		args := checkCronJob(t, "cronjob.yaml", cj)
		if !slices.Contains(args, "--credentials=env") || len(cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].EnvFrom) == 0 {
			t.Error("cronjob.yaml: the keys variant takes --credentials=env from a Secret")
		}
	})

	t.Run("cronjob-tke-oidc.yaml", func(t *testing.T) {
		docs := recipeDocs(t, "cronjob-tke-oidc.yaml")
		if len(docs) != 2 {
			t.Fatalf("want a ServiceAccount and a CronJob, got %d documents", len(docs))
		}
		sa, ok1 := docs[0].(*corev1.ServiceAccount)
		cj, ok2 := docs[1].(*batchv1.CronJob)
		if !ok1 || !ok2 {
			t.Fatalf("want a ServiceAccount then a CronJob, got %T, %T", docs[0], docs[1])
		}
		if !strings.HasPrefix(sa.Annotations["tke.cloud.tencent.com/role-arn"], "qcs::cam::uin/") {
			t.Error("the ServiceAccount needs the tke.cloud.tencent.com/role-arn annotation (a CAM role ARN)")
		}
		args := checkCronJob(t, "cronjob-tke-oidc.yaml", cj)
		pod := cj.Spec.JobTemplate.Spec.Template.Spec
		if pod.ServiceAccountName != sa.Name || !slices.Contains(args, "--credentials=oidc") {
			t.Errorf("the pod must run as ServiceAccount %q with --credentials=oidc", sa.Name)
		}
		if c := pod.Containers[0]; len(c.EnvFrom) > 0 || len(c.Env) > 0 {
			t.Error("the pod-identity variant must not take a Secret of keys")
		}
	})

	t.Run("indexed-job.yaml", func(t *testing.T) {
		docs := recipeDocs(t, "indexed-job.yaml")
		j, ok := docs[0].(*batchv1.Job)
		if len(docs) != 1 || !ok {
			t.Fatalf("want one Job, got %T", docs)
		}
		s := j.Spec
		if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion || s.BackoffLimitPerIndex == nil {
			t.Error("want completionMode: Indexed and backoffLimitPerIndex")
		}
		if s.TTLSecondsAfterFinished == nil {
			t.Error("want ttlSecondsAfterFinished")
		}
		var failsOn2, ignoresDisruption bool
		if p := s.PodFailurePolicy; p != nil {
			for _, r := range p.Rules {
				if e := r.OnExitCodes; r.Action == batchv1.PodFailurePolicyActionFailIndex && e != nil &&
					e.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn && slices.Contains(e.Values, exitUsage) {
					failsOn2 = true
				}
				for _, c := range r.OnPodConditions {
					if r.Action == batchv1.PodFailurePolicyActionIgnore && c.Type == corev1.DisruptionTarget {
						ignoresDisruption = true
					}
				}
			}
		}
		if !failsOn2 || !ignoresDisruption {
			t.Errorf("podFailurePolicy must fail the index on exit %d (FailIndex) and ignore DisruptionTarget", exitUsage)
		}
		args := checkPodSpec(t, "indexed-job.yaml", s.Template.Spec)
		joined := strings.Join(j.Spec.Template.Spec.Containers[0].Args, " ")
		if !strings.Contains(joined, "--shard=$(JOB_COMPLETION_INDEX)/") || !strings.Contains(joined, "$(JOB_COMPLETION_INDEX).json") {
			t.Errorf("args %q must shard by JOB_COMPLETION_INDEX with a report per shard", joined)
		}
		parseRecipeArgs(t, args)
	})

	t.Run("crontab", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join("deploy", "crontab"))
		if err != nil {
			t.Fatal(err)
		}
		var line string
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "wftrigger run") && !strings.HasPrefix(l, "#") {
				line = l
			}
		}
		_, cmd, ok := strings.Cut(line, "wftrigger run ")
		if !ok {
			t.Fatal("crontab has no wftrigger run line")
		}
		cmd, _, _ = strings.Cut(cmd, ">>")
		if parseRecipeArgs(t, strings.Fields(cmd)) == 0 {
			t.Error("the crontab's nightly window needs --max-duration")
		}
	})
}

// The series of the contract's "Metrics file" section, with the values of
// their own labels; every series also carries bucket, workflow and report.
var (
	contractMetrics = map[string]bool{
		"wftrigger_objects": true, "wftrigger_calls": true, "wftrigger_retries": true, "wftrigger_throttled": true,
		"wftrigger_rate_limit": true, "wftrigger_run_duration_seconds": true, "wftrigger_last_run_exit_code": true,
		"wftrigger_last_run_timestamp_seconds": true, "wftrigger_last_success_timestamp_seconds": true,
		"wftrigger_complete": true, "wftrigger_build_info": true, "wftrigger_executions": true,
	}
	contractLabels   = map[string]bool{"bucket": true, "workflow": true, "report": true, "status": true, "version": true, "state": true}
	contractStatuses = map[string]bool{"succeeded": true, "failed": true, "invalid": true, "duplicate": true, "skipped": true, "recovered": true}
)

var (
	metricName    = regexp.MustCompile(`\bwftrigger_[a-z_]+`)
	grouping      = regexp.MustCompile(`\b(?:by|on|without|ignoring)\s*\(([^)]*)\)`)
	selectorLabel = regexp.MustCompile(`([a-z_]+)\s*(?:=~|!~|!=|=)\s*"([^"]*)"`)
	templateLabel = regexp.MustCompile(`\$labels\.([a-z_]+)`)
)

// checkExpr checks that a PromQL expression uses only the contract's
// metric names, labels and status values.
func checkExpr(t *testing.T, where, expr string) {
	t.Helper()
	names := metricName.FindAllString(expr, -1)
	if len(names) == 0 {
		t.Errorf("%s: %q uses no wftrigger metric", where, expr)
	}
	for _, n := range names {
		if !contractMetrics[n] {
			t.Errorf("%s: %s is not a metric of the contract", where, n)
		}
	}
	for _, m := range grouping.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(m[1], ",") {
			if l = strings.TrimSpace(l); l != "" && !contractLabels[l] {
				t.Errorf("%s: label %q is not one of the contract's", where, l)
			}
		}
	}
	for _, m := range selectorLabel.FindAllStringSubmatch(expr, -1) {
		if !contractLabels[m[1]] {
			t.Errorf("%s: label %q is not one of the contract's", where, m[1])
		}
		if m[1] == "status" {
			for _, v := range strings.Split(m[2], "|") {
				if !contractStatuses[v] {
					t.Errorf("%s: status %q is not one of the contract's", where, v)
				}
			}
		}
	}
}

func TestAlertRules(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("deploy", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The Prometheus rule file format, strictly: a misspelt field fails.
	var rules struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Alert       string            `json:"alert"`
				Expr        string            `json:"expr"`
				For         string            `json:"for,omitempty"`
				Labels      map[string]string `json:"labels,omitempty"`
				Annotations map[string]string `json:"annotations,omitempty"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.UnmarshalStrict(b, &rules); err != nil {
		t.Fatalf("alerts.yaml: %v", err)
	}
	alerts := map[string]string{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Annotations["summary"] == "" || r.Labels["severity"] == "" {
				t.Errorf("alerts.yaml: rule %q needs alert, labels.severity and annotations.summary", r.Alert)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("alerts.yaml: %s: for %q: %v", r.Alert, r.For, err)
				}
			}
			checkExpr(t, "alerts.yaml "+r.Alert, r.Expr)
			for _, a := range r.Annotations {
				for _, m := range templateLabel.FindAllStringSubmatch(a, -1) {
					if !contractLabels[m[1]] {
						t.Errorf("alerts.yaml: %s: $labels.%s is not a label of the contract", r.Alert, m[1])
					}
				}
			}
			alerts[r.Alert] = r.Expr
		}
	}
	// The three alerts of issue 10: no success in 26 h, failures, stuck.
	for name, must := range map[string]string{
		"WftriggerNoRecentSuccess": "wftrigger_last_success_timestamp_seconds",
		"WftriggerObjectsFailed":   `wftrigger_objects{status="failed"}`,
		"WftriggerStuck":           "[30m]",
	} {
		if !strings.Contains(alerts[name], must) {
			t.Errorf("alerts.yaml: %s = %q, want it built on %s", name, alerts[name], must)
		}
	}
	if !strings.Contains(alerts["WftriggerNoRecentSuccess"], "26 * 3600") {
		t.Error("alerts.yaml: WftriggerNoRecentSuccess must fire after 26 h")
	}
}

func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("deploy", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string `json:"title"`
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	if dash.Title == "" || dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatal("grafana-dashboard.json: want a title, a uid and panels")
	}
	used := map[string]bool{}
	for _, p := range dash.Panels {
		if p.Title == "" || p.Type == "" || len(p.Targets) == 0 {
			t.Errorf("panel %q: want a title, a type and a query", p.Title)
		}
		for _, q := range p.Targets {
			checkExpr(t, "panel "+p.Title, q.Expr)
			for _, n := range metricName.FindAllString(q.Expr, -1) {
				used[n] = true
			}
		}
	}
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(map[string]any); ok {
			checkExpr(t, "variable "+v.Name, q["query"].(string))
		}
	}
	for _, m := range []string{"wftrigger_last_success_timestamp_seconds", "wftrigger_objects", "wftrigger_rate_limit", "wftrigger_throttled"} {
		if !used[m] {
			t.Errorf("the dashboard shows no %s", m)
		}
	}
}
