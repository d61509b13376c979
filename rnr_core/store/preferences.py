"""Per-person preferences: what someone last chose in the app, by name."""

import json


class PreferenceQueries:
    def preferences(self, owner: str) -> dict:
        """Every stored preference of `owner`, by name."""
        rows = self.con.execute("SELECT name, value FROM preferences WHERE owner = ?", [owner]).fetchall()
        return {name: json.loads(value) for name, value in rows}

    def set_preference(self, owner: str, name: str, value) -> None:
        """Store one preference of `owner` (any JSON value), replacing the previous one."""
        self.con.execute(
            "INSERT OR REPLACE INTO preferences (owner, name, value, updated_at) "
            "VALUES (?, ?, ?, current_timestamp)",
            [owner, name, json.dumps(value)],
        )

    def set_preferences(self, owner: str, values: dict) -> None:
        """Store several preferences of `owner` at once, each replacing the previous one."""

        def write() -> None:
            with self.transaction():
                for name, value in values.items():
                    self.set_preference(owner, name, value)

        self.short_write(write, "these preferences")
