module github.com/coordkit/coord/bench

go 1.26

require github.com/coordkit/coord v0.0.0

replace github.com/coordkit/coord => ../
