"""Every write of the events app: one function per state change (STYLE.md),
by topic: ``days`` (generating, moving and adding service days), ``signups``."""
