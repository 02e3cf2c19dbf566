package transforms

// flattenClasses: Flatten, TimestampConverter.
var flattenClasses []class
