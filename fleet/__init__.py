"""The fleet server: hubs' CoAP endpoint, people's web pages and API, one database."""
