package mariadb

import (
	"context"
	"os"
	"testing"
)

// TestStartStop: a server starts, serves Database to User's password, and leaves nothing behind.
func TestStartStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts mariadbd")
	}
	s := Start(t, Options{Password: `pw with 'quotes' \ and spaces`})
	db, err := s.DB()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var name string
	if err := db.QueryRowContext(context.Background(), "SELECT DATABASE()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	if name != s.Database {
		t.Errorf("DATABASE() = %q, want %q", name, s.Database)
	}
	db.Close()
	s.Stop()
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after Stop: %v", s.dir, err)
	}
}
