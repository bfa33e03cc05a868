module github.com/coordkit/coord/bench

go 1.26.0

require github.com/coordkit/coord v0.0.0

require golang.org/x/sync v0.25.0

replace github.com/coordkit/coord => ../
