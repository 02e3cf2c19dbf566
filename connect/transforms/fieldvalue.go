package transforms

// valueClasses: Cast, MaskField, ReplaceField, SetSchemaMetadata.
var valueClasses []class
