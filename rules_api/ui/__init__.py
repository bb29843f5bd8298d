"""The browser console's static files (served by rules_api.routers.ui)."""
