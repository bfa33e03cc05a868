package bench

import (
	"context"
	"sync"
	"testing"

	"github.com/coordkit/coord"
)

// A round of a 4-party Barrier: three parties park, the fourth trips it.
// The anchor is the same meeting built from what the standard library has:
// a sync.WaitGroup per round behind a sync.Mutex, the first party to arrive
// making the round's group (a cyclic barrier has no sync counterpart).
func BenchmarkBarrierRound(b *testing.B) {
	const parties = 4
	b.Run("coord", func(b *testing.B) {
		b.ReportAllocs()
		br := coord.NewBarrier(parties)
		ctx := context.Background()
		var wg sync.WaitGroup
		seen := make([]int, parties) // how often each index was handed out
		var mu sync.Mutex
		for range parties {
			wg.Go(func() {
				for range b.N {
					i, err := br.Wait(ctx)
					if err != nil {
						b.Error(err)
						return
					}
					mu.Lock()
					seen[i]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for i, n := range seen {
			if n != b.N {
				b.Fatalf("index %d handed out %d times in %d rounds", i, n, b.N)
			}
		}
	})
	b.Run("waitgroup-rounds", func(b *testing.B) {
		b.ReportAllocs()
		var (
			mu      sync.Mutex
			arrived int
			round   = new(sync.WaitGroup)
		)
		round.Add(parties)
		var wg sync.WaitGroup
		for range parties {
			wg.Go(func() {
				for range b.N {
					mu.Lock()
					r := round
					arrived++
					if arrived == parties {
						arrived = 0
						round = new(sync.WaitGroup)
						round.Add(parties)
					}
					mu.Unlock()
					r.Done()
					r.Wait()
				}
			})
		}
		wg.Wait()
	})
}
