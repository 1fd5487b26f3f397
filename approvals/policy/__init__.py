"""The approval policy, one package by concern (issue 24); the models stay in
`approvals.models` (`PolicyVersion`, `ApprovalPolicy`: no migration).

- `rules`: the policy as data and its pure evaluation (routing, problems of a draft).
  Django-free like `approvals/workflow/`: this `__init__` imports nothing, so the rules
  load without Django (tests/config/test_layout.py keeps both so);
- `versions`: published versions, the demo policy, the org snapshot the rules read;
- `words`: group names and a draft's problems in the reader's language;
- `selectors`, `services`, `forms`, `views`: the versions and the what-if (reads), the
  draft and publishing (writes), the editor's forms and `/policy/` pages.
"""
