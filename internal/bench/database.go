package bench

import (
	"fmt"
	"slices"
	"strings"
)

// Databases lists the embedded databases a local network can run on.
var Databases = []string{"bolt", "pebble"}

// ParseDatabases parses a comma-separated list of databases, refusing an empty
// list, unknown names and duplicates, and returns them in the order given.
func ParseDatabases(s string) ([]string, error) {
	var dbs []string
	for part := range strings.SplitSeq(s, ",") {
		db := strings.TrimSpace(part)
		if !slices.Contains(Databases, db) {
			return nil, fmt.Errorf("unknown database %q (want %s)", db, strings.Join(Databases, " or "))
		}
		if slices.Contains(dbs, db) {
			return nil, fmt.Errorf("database %q listed twice", db)
		}
		dbs = append(dbs, db)
	}
	return dbs, nil
}

// database is the servers' database, bolt unless set.
func (l Local) database() string {
	if l.Database == "" {
		return "bolt"
	}
	return l.Database
}

// locals is one Local per database of the plan, or the plan's Local alone.
func (p Plan) locals() []Local {
	if len(p.Databases) == 0 {
		return []Local{p.Local}
	}
	ls := make([]Local, len(p.Databases))
	for i, db := range p.Databases {
		ls[i] = p.Local
		ls[i].Database = db
	}
	return ls
}

// databases lists the distinct databases of results in the order they first
// appear.
func databases(results []Result) []string {
	var dbs []string
	for _, r := range results {
		if !slices.Contains(dbs, r.Database) {
			dbs = append(dbs, r.Database)
		}
	}
	return dbs
}
