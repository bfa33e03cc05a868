// Package etcd provides coord's primitives across processes and machines, on etcd.
package etcd
