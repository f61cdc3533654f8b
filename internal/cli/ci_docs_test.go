package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// ciDocJob is what docs/ci.md's jobs are checked on: the shell lines they
// run and the files they keep.
type ciDocJob struct {
	lines []string // every shell line
	kept  []string // artifact paths
	junit []string // the files published as JUnit
}

// TestCIDocsJobs parses the GitHub Actions and GitLab CI jobs of
// docs/ci.md as YAML: each runs fuka with flags that exist on its
// command, on a plan file that exists, writes --junit and --summary-md,
// and keeps the HTML report and the JUnit file it wrote (and publishes the
// JUnit file).
func TestCIDocsJobs(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "ci.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) != 2 {
		t.Fatalf("docs/ci.md has %d yaml blocks, want 2 (GitHub Actions, GitLab CI)", len(blocks))
	}
	jobs := map[string]ciDocJob{}
	for _, b := range blocks {
		var y map[string]any
		if err := yaml.Unmarshal([]byte(b[1]), &y); err != nil {
			t.Fatalf("not YAML: %v\n%s", err, b[1])
		}
		if gh, ok := y["jobs"].(map[string]any); ok {
			jobs["github"] = githubJob(t, gh)
		} else {
			jobs["gitlab"] = gitlabJob(t, y)
		}
	}
	for _, ci := range []string{"github", "gitlab"} {
		t.Run(ci, func(t *testing.T) {
			job, ok := jobs[ci]
			if !ok {
				t.Fatalf("no %s job", ci)
			}
			var runs int
			for _, line := range job.lines {
				f := strings.Fields(line)
				if len(f) < 2 || f[0] != "fuka" {
					continue
				}
				cmd, rest, err := newRoot(Stdio{}).Find(f[1:])
				if err != nil || cmd.Name() != f[1] {
					t.Errorf("%q: no command %s", line, f[1])
					continue
				}
				flags := map[string]string{}
				for i := 0; i < len(rest); i++ {
					a := rest[i]
					if !strings.HasPrefix(a, "--") {
						continue
					}
					name := strings.TrimPrefix(a, "--")
					fl := cmd.Flags().Lookup(name)
					if fl == nil {
						t.Errorf("%q: fuka %s has no flag --%s", line, f[1], name)
						continue
					}
					if fl.Value.Type() != "bool" && i+1 < len(rest) {
						flags[name] = rest[i+1]
						i++
					}
				}
				if f[1] != "run" {
					continue
				}
				runs++
				if _, err := os.Stat(filepath.Join("..", "..", rest[0])); err != nil {
					t.Errorf("%q: plan %v", line, err)
				}
				for _, need := range []string{"junit", "summary-md", "report", "history"} {
					if flags[need] == "" {
						t.Errorf("%q: no --%s", line, need)
					}
				}
				for _, keep := range []string{flags["report"], flags["junit"]} {
					if !slices.Contains(job.kept, keep) {
						t.Errorf("%s is written but not kept as an artifact (kept: %q)", keep, job.kept)
					}
				}
				if !slices.Contains(job.junit, flags["junit"]) {
					t.Errorf("--junit %s is not published (published: %q)", flags["junit"], job.junit)
				}
			}
			if runs != 1 {
				t.Errorf("%d fuka run lines, want 1", runs)
			}
		})
	}
}

// githubJob reads a workflow's one job: its steps' run lines, the
// upload-artifact paths, and the JUnit publisher's report paths.
func githubJob(t *testing.T, jobs map[string]any) ciDocJob {
	var j ciDocJob
	for _, job := range jobs {
		steps, _ := job.(map[string]any)["steps"].([]any)
		for _, s := range steps {
			step := s.(map[string]any)
			if run, ok := step["run"].(string); ok {
				j.lines = append(j.lines, strings.Split(run, "\n")...)
			}
			uses, _ := step["uses"].(string)
			with, _ := step["with"].(map[string]any)
			switch {
			case strings.HasPrefix(uses, "actions/upload-artifact@"):
				j.kept = append(j.kept, strings.Fields(with["path"].(string))...)
			case strings.HasPrefix(uses, "mikepenz/action-junit-report@"):
				j.junit = append(j.junit, with["report_paths"].(string))
			}
		}
	}
	if len(j.lines) == 0 {
		t.Error("the GitHub job runs nothing")
	}
	return j
}

// gitlabJob reads a .gitlab-ci.yml's one job: its script, artifacts:paths
// and artifacts:reports:junit.
func gitlabJob(t *testing.T, y map[string]any) ciDocJob {
	var j ciDocJob
	for _, v := range y {
		job, ok := v.(map[string]any)
		if !ok || job["script"] == nil {
			continue
		}
		for _, l := range job["script"].([]any) {
			j.lines = append(j.lines, l.(string))
		}
		art, _ := job["artifacts"].(map[string]any)
		for _, p := range art["paths"].([]any) {
			j.kept = append(j.kept, p.(string))
		}
		if reports, ok := art["reports"].(map[string]any); ok {
			j.junit = append(j.junit, reports["junit"].(string))
		}
	}
	if len(j.lines) == 0 {
		t.Error("the GitLab job runs nothing")
	}
	return j
}
