package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestDeployRecipes checks that the recipes in deploy/ pass the real flag
// parser of `wftrigger run`, so that they cannot drift from the flags.
func TestDeployRecipes(t *testing.T) {
	type container struct {
		Args []string `yaml:"args"`
	}
	type podSpec struct {
		Containers []container `yaml:"containers"`
	}
	type podTemplate struct {
		Spec podSpec `yaml:"spec"`
	}
	type manifest struct {
		Kind string `yaml:"kind"`
		Spec struct {
			ConcurrencyPolicy string      `yaml:"concurrencyPolicy"`
			CompletionMode    string      `yaml:"completionMode"`
			Completions       int         `yaml:"completions"`
			Template          podTemplate `yaml:"template"`
			JobTemplate       struct {
				Spec struct {
					Template podTemplate `yaml:"template"`
				} `yaml:"spec"`
			} `yaml:"jobTemplate"`
		} `yaml:"spec"`
	}
	tests := []struct {
		file  string
		check func(t *testing.T, m manifest) []string
	}{
		{"cronjob.yaml", func(t *testing.T, m manifest) []string {
			if m.Kind != "CronJob" || m.Spec.ConcurrencyPolicy != "Forbid" {
				t.Errorf("cronjob.yaml: kind %q, concurrencyPolicy %q; want CronJob, Forbid", m.Kind, m.Spec.ConcurrencyPolicy)
			}
			return m.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args
		}},
		{"indexed-job.yaml", func(t *testing.T, m manifest) []string {
			if m.Kind != "Job" || m.Spec.CompletionMode != "Indexed" {
				t.Errorf("indexed-job.yaml: kind %q, completionMode %q; want Job, Indexed", m.Kind, m.Spec.CompletionMode)
			}
			args := m.Spec.Template.Spec.Containers[0].Args
			joined := strings.Join(args, " ")
			if !strings.Contains(joined, "--shard=$(JOB_COMPLETION_INDEX)/") || !strings.Contains(joined, "$(JOB_COMPLETION_INDEX).json") {
				t.Errorf("indexed-job.yaml: args %q must shard by JOB_COMPLETION_INDEX with a report per shard", args)
			}
			return args
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("deploy", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var m manifest
			if err := yaml.Unmarshal(b, &m); err != nil {
				t.Fatalf("%s: %v", tt.file, err)
			}
			args := tt.check(t, m)
			if len(args) == 0 || args[0] != "run" {
				t.Fatalf("%s: args %q do not start with run", tt.file, args)
			}
			for i := range args {
				args[i] = strings.ReplaceAll(args[i], "$(JOB_COMPLETION_INDEX)", "3")
			}
			if _, err := parseRunFlags(args[1:], io.Discard, io.Discard); err != nil {
				t.Errorf("%s: wftrigger %s: %v", tt.file, strings.Join(args, " "), err)
			}
		})
	}
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
		if _, err := parseRunFlags(strings.Fields(cmd), io.Discard, io.Discard); err != nil {
			t.Errorf("crontab: wftrigger run %s: %v", cmd, err)
		}
	})
}
