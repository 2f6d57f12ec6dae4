package auditlog

// The bundle codec, for the tests of package auditlog_test, which write and
// tamper with bundles as Append stores them.
var (
	CompressBundle = compressBundle
	OpenBundle     = openBundle
)
