// Package metrics owns the Prometheus textfile format of wftrigger's metrics
// file (--metrics-file): which series it holds, what they mean while a run goes
// on and after it ended, how their labels are escaped, and how the file is
// replaced atomically so that the node exporter's textfile collector never
// reads half of it.
//
// # Series
//
// Every series is a gauge and carries the labels bucket, workflow and report
// (the report file's base name), so that two reports on the same bucket are
// told apart. Counts are those of this run (a resumed run counts what it did,
// not what earlier runs did).
//
//	wftrigger_objects{status}                  objects of this run by status: succeeded, failed,
//	                                           invalid, duplicate, skipped, recovered
//	wftrigger_calls                            TriggerWorkflow calls made
//	wftrigger_retries                          calls that were retries
//	wftrigger_throttled                        throttled answers (429, 503 SlowDown, …)
//	wftrigger_rate_limit                       the pacer's current limit, calls a second (+Inf: none)
//	wftrigger_run_duration_seconds             how long the run has gone on, or went on
//	wftrigger_last_run_exit_code               exit status of the run; absent while it goes on
//	wftrigger_last_run_timestamp_seconds       when the file was written: the run's end once it
//	                                           ended, a heartbeat every 15 s while it goes on
//	wftrigger_last_success_timestamp_seconds   when the last run that exited 0 ended; kept from
//	                                           the previous file (same path, same labels) by a run
//	                                           that did not exit 0 or has not ended; absent until
//	                                           a run first succeeds
//	wftrigger_complete                         1 when the source was read to its end, else 0
//	wftrigger_build_info{version}              always 1; the wftrigger version
//	wftrigger_executions{state}                instances by execution state, after status or --wait
//
// # While a run goes on
//
// The file is rewritten every 15 s during a run ([Start]) and once at its end
// ([Writer.Stop]). While the run goes on, wftrigger_last_run_exit_code is
// left out (it has no exit code yet), so that the alert
// "wftrigger_last_run_exit_code != 0" never fires for a healthy running job,
// and an earlier failure stops firing once a new run is under way. Neither
// -1 nor the previous run's code is written: -1 would fire that alert, and
// the previous code would keep firing it through a healthy retry. Whether a
// run is going on reads as the exit code's absence; a run that died without
// a last word (kill -9, OOM) shows as a heartbeat that stopped:
//
//	time() - wftrigger_last_run_timestamp_seconds > 120
//	  unless on(bucket, workflow, report) wftrigger_last_run_exit_code
//
// Alerts a batch job is usually watched by:
//
//	time() - wftrigger_last_success_timestamp_seconds > 26*3600   no success in 26 h
//	wftrigger_objects{status="failed"} > 0                        failures
//	wftrigger_last_run_exit_code != 0                             the last run failed
//	changes(wftrigger_calls[30m]) == 0
//	  unless on(bucket, workflow, report) wftrigger_last_run_exit_code   stuck
//
// # After status
//
// `wftrigger status --metrics-file` gives the run's file its
// wftrigger_executions series ([WriteExecutions]): they replace the ones an
// earlier status wrote, and every series of the run is kept as the run
// wrote it. The next run's file has none until status runs again.
//
// # Format
//
// Label values are written as the Prometheus text format wants them: a
// backslash as \\, a double quote as \", a newline as \n, and every other
// byte as it is (a tab or other control character needs no escape); a value
// that is not valid UTF-8 has each invalid byte sequence replaced by U+FFFD,
// since the parser rejects invalid UTF-8. HELP text escapes the backslash
// and the newline. The file is written to a temporary file in the same
// folder, synced, given mode 0644 and renamed over the old one; then the
// folder is synced. The folder must exist ([CheckPath]).
package metrics
