package steps

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"
)

// RedisList is a Queue on a Redis list, the demo's work: items are numbered job-1, job-2, ...
type RedisList struct {
	Client *goredis.Client
	Key    string
	pushed int
}

// Push appends n items.
func (q *RedisList) Push(ctx context.Context, n int) error {
	items := make([]any, n)
	for i := range items {
		q.pushed++
		items[i] = fmt.Sprintf("job-%d", q.pushed)
	}
	if err := q.Client.RPush(ctx, q.Key, items...).Err(); err != nil {
		return fmt.Errorf("failed to push %d items to %s: %w", n, q.Key, err)
	}
	return nil
}

// Drain empties the list.
func (q *RedisList) Drain(ctx context.Context) error {
	if err := q.Client.Del(ctx, q.Key).Err(); err != nil {
		return fmt.Errorf("failed to empty %s: %w", q.Key, err)
	}
	return nil
}

// Len is the list's length.
func (q *RedisList) Len(ctx context.Context) (int64, error) {
	n, err := q.Client.LLen(ctx, q.Key).Result()
	if err != nil {
		return 0, fmt.Errorf("failed to read the length of %s: %w", q.Key, err)
	}
	return n, nil
}
