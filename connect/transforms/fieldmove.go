package transforms

// moveClasses: ExtractField, HoistField, InsertField, ValueToKey,
// HeaderFrom.
var moveClasses []class
