// Package data is Kafka Connect's data model for Tributary: schemas
// (Schema, with Kafka's types and logical types), the values they describe,
// how Kafka's JsonConverter reads and writes them, and their Java text (what
// Java's toString prints, which is what Kafka's FileStreamSink writes).
//
// A value is one of these Go types, by schema type:
//
//	INT8 int8, INT16 int16, INT32 int32, INT64 int64
//	FLOAT32 float32, FLOAT64 float64, BOOLEAN bool
//	STRING string, BYTES []byte
//	ARRAY []any, MAP *Map, STRUCT *Struct
//	Decimal (logical, over BYTES) Decimal
//	Date, Time, Timestamp (logical, over INT32 or INT64) time.Time
//
// and nil for a null. A value without a schema (the JsonConverter with
// schemas.enable=false) is one of the same types: a JSON integer is an
// int64, another number a float64, an object a *Map with string keys.
//
// A *Map remembers the Java class it stands for, because Java prints a
// java.util.HashMap in the order of its hash buckets and a LinkedHashMap in
// insertion order; Map.Order gives the order Java prints.
package data
