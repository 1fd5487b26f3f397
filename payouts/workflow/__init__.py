"""The Payout saga and the PayoutRun: Django-free (the sandbox and the replay test load it
alone), like approvals/workflow/, whose handoff it implements."""
