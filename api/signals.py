"""What the API's business code tells its observers: named blinker signals, sent and forgotten.

The use cases and error handlers send these; api/metrics.py subscribes when the app counts (the
business code never imports the metrics). Each signal's sender is the one value it carries, a label
such as a job type or a refusal's reason; a signal with no receiver costs a send and nothing more.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

job_submitted = _signals.signal("job-submitted", doc="a job was accepted; sender: its JobType value")
limit_refused = _signals.signal("limit-refused", doc="a limit refused a request; sender: its ErrorCode value")
auth_refused = _signals.signal("auth-refused", doc="a key was refused; sender: why (missing, forbidden...)")
wait_began = _signals.signal("wait-began", doc="a request began long-waiting on a job; sender: the job id")
wait_ended = _signals.signal("wait-ended", doc="a long-wait ended, however; sender: the job id")
stream_opened = _signals.signal("stream-opened", doc="an event stream began; sender: None")
stream_closed = _signals.signal("stream-closed", doc="an event stream ended, however; sender: None")
