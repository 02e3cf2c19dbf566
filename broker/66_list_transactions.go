package broker

import (
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/broker/txn"
)

// ListTransactions: v0-1
//
// Behavior:
// * Every transactional id the transaction coordinator holds, with its
//   producer id and state, filtered as asked: by state names
//   (StateFilters; names that are not states come back in
//   UnknownStateFilters), by producer ids, and (v1) to those whose open
//   transaction has run longer than DurationFilterMillis.
// * ACLs: only the ids the principal may DESCRIBE are listed.
//
// Not done: v2 (TransactionalIDPattern, KIP-1152).
//
// Version notes:
// * v0: flexible versions
// * v1: DurationFilterMillis (KIP-994)

func handleListTransactions(b *Broker, _ *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.ListTransactionsRequest)
	resp := req.ResponseKind().(*kmsg.ListTransactionsResponse)
	var states []txn.State
	for _, name := range req.StateFilters {
		s, ok := txn.ParseState(name)
		if !ok {
			resp.UnknownStateFilters = append(resp.UnknownStateFilters, name)
			continue
		}
		states = append(states, s)
	}
	if len(req.StateFilters) > 0 && len(states) == 0 {
		return reply{resp: resp}
	}
	now := time.Now()
	for _, d := range b.txns.List() {
		if len(states) > 0 && !slices.Contains(states, d.State) {
			continue
		}
		if len(req.ProducerIDFilters) > 0 && !slices.Contains(req.ProducerIDFilters, d.ProducerID) {
			continue
		}
		if req.Version >= 1 && req.DurationFilterMillis >= 0 &&
			(d.Start.IsZero() || now.Sub(d.Start).Milliseconds() <= req.DurationFilterMillis) {
			continue
		}
		st := kmsg.NewListTransactionsResponseTransactionState()
		st.TransactionalID, st.ProducerID, st.TransactionState = d.ID, d.ProducerID, d.State.String()
		resp.TransactionStates = append(resp.TransactionStates, st)
	}
	return reply{resp: resp}
}
