package service

import "sync"

// Broadcaster wakes every waiter at once: each Ring closes the channel the waiters hold
// and hands out a new one. A waiter takes its channel before it reads, so a ring between
// its read and its wait is not lost.
type Broadcaster struct {
	mu sync.Mutex
	ch chan struct{}
}

// NewBroadcaster is a broadcaster nobody waits on yet.
func NewBroadcaster() *Broadcaster { return &Broadcaster{ch: make(chan struct{})} }

// Wait is closed at the next Ring.
func (b *Broadcaster) Wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ch
}

// Ring wakes everyone waiting.
func (b *Broadcaster) Ring() {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.ch)
	b.ch = make(chan struct{})
}
