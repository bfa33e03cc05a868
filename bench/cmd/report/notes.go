package main

// notes explain results that the numbers alone do not, keyed by the
// workload's benchmark name. They were written from the runs recorded in
// BENCHMARKS.md; regenerate the report and re-read them if the code under
// a note changes.
var notes = map[string]string{}

// profileSummary is what the profiles of coord.Mutex under contention
// showed; see the details below it in BENCHMARKS.md.
const profileSummary = ``
