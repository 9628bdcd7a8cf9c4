// Package atomicfile writes files that never hold a partial content: each
// is written to a temporary file in the same folder, synced, and renamed
// into place, so that a crash or a failed write leaves either the old file
// or the new one.
package atomicfile
