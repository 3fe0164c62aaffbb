"""The Discord adapter: slash commands over `knowledge.service.KnowledgeService`."""
