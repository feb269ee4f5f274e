package database

// MigrateFS lets the tests apply migrations of their own.
var MigrateFS = migrate
