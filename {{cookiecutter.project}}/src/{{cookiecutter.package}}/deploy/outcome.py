"""What a deploy did: the version serving, the one kept warm, and what a person reads."""

from dataclasses import dataclass, field


@dataclass
class Outcome:
    environment: str
    changed: bool
    serving: str
    warm: str | None
    switch_seconds: float | None = None
    notes: list[str] = field(default_factory=list)
    canary_pending: bool = False
    # Versions started cold by this deploy, and why no warm copy served.
    cold: dict[str, str] = field(default_factory=dict)
    # From the command's start to the router answering from the new version.
    answering_seconds: float | None = None

    def lines(self) -> list[str]:
        """What a person reads after the deploy: what serves, what is warm, why."""
        said = [f"{self.environment}: serving {self.serving}; warm: {self.warm or 'none'}"]
        said += [f"started {tag} cold: {why}" for tag, why in self.cold.items()]
        if self.switch_seconds is not None:
            said.append(
                f"switched traffic in {self.switch_seconds:.3f}s; {self.serving} answered "
                f"{self.answering_seconds:.1f}s after this deploy began"
            )
        elif not self.changed:
            said.append("already as the manifest says: nothing changed")
        return said + [f"note: {note}" for note in self.notes]
