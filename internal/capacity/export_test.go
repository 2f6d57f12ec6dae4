package capacity

// WaitsFor is waitsFor, for the test that holds Awaiting to it.
var WaitsFor = waitsFor
