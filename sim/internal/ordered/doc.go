// Package ordered runs numbered jobs in parallel and hands their results
// on in number order, whatever order they finish in, so that what is
// written from them does not depend on scheduling. At most a small window
// of finished results waits for an earlier one, so memory stays bounded
// however many jobs there are.
package ordered
