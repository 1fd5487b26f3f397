"""SCIM 2.0 provisioning at /scim/v2/ (bearer SCIM_TOKEN): see protocol.py."""
