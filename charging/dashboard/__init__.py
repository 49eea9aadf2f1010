"""The operators' dashboard (`/dashboard/`): chargers, connectors, sessions, energy and errors."""
