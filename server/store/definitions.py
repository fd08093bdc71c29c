"""Source and destination definitions in SQLite."""

from __future__ import annotations

import time
import uuid

from sqlite_utils import Database

from server.models.definitions import (
    DestinationDefinitionRead,
    NormalizationDestinationDefinitionConfig,
    SourceDefinitionRead,
    SourceType,
)
from server.store import documents

SOURCE_TABLE = "source_definitions"
SOURCE_KIND = "source definition"
DESTINATION_TABLE = "destination_definitions"
DESTINATION_KIND = "destination definition"


def insert_source_definition(
    db: Database, definition: SourceDefinitionRead
) -> SourceDefinitionRead:
    documents.insert_doc(
        db,
        SOURCE_TABLE,
        str(definition.source_definition_id),
        definition,
        created_at=int(time.time()),
    )
    return definition


def get_source_definition(db: Database, definition_id: str) -> SourceDefinitionRead:
    return documents.get_doc(db, SOURCE_TABLE, definition_id, SourceDefinitionRead, SOURCE_KIND)


def list_source_definitions(db: Database) -> list[SourceDefinitionRead]:
    return documents.list_docs(db, SOURCE_TABLE, SourceDefinitionRead)


def update_source_definition(
    db: Database, definition: SourceDefinitionRead
) -> SourceDefinitionRead:
    documents.update_doc(
        db, SOURCE_TABLE, str(definition.source_definition_id), definition, SOURCE_KIND
    )
    return definition


def delete_source_definition(db: Database, definition_id: str) -> None:
    """Delete the definition and, as Airbyte does, the sources built on it (and so, by
    foreign-key cascade, their connections)."""
    documents.delete_doc(db, SOURCE_TABLE, definition_id, SOURCE_KIND)
    db.execute("DELETE FROM sources WHERE definition_id = ?", [definition_id])


def insert_destination_definition(
    db: Database, definition: DestinationDefinitionRead
) -> DestinationDefinitionRead:
    documents.insert_doc(
        db,
        DESTINATION_TABLE,
        str(definition.destination_definition_id),
        definition,
        created_at=int(time.time()),
    )
    return definition


def get_destination_definition(db: Database, definition_id: str) -> DestinationDefinitionRead:
    return documents.get_doc(
        db, DESTINATION_TABLE, definition_id, DestinationDefinitionRead, DESTINATION_KIND
    )


def list_destination_definitions(db: Database) -> list[DestinationDefinitionRead]:
    return documents.list_docs(db, DESTINATION_TABLE, DestinationDefinitionRead)


def update_destination_definition(
    db: Database, definition: DestinationDefinitionRead
) -> DestinationDefinitionRead:
    documents.update_doc(
        db,
        DESTINATION_TABLE,
        str(definition.destination_definition_id),
        definition,
        DESTINATION_KIND,
    )
    return definition


def delete_destination_definition(db: Database, definition_id: str) -> None:
    """Delete the definition and the destinations (and their connections) built on it."""
    documents.delete_doc(db, DESTINATION_TABLE, definition_id, DESTINATION_KIND)
    db.execute("DELETE FROM destinations WHERE definition_id = ?", [definition_id])


def _docs(kind: str, page: str) -> str:
    return f"https://docs.airbyte.com/integrations/{kind}/{page}"


def _sluice_source(
    id: str, name: str, program: str, source_type: SourceType, docs: str
) -> SourceDefinitionRead:
    return SourceDefinitionRead(
        source_definition_id=uuid.UUID(id),
        name=name,
        docker_repository=f"sluice/{program}",
        docker_image_tag="0.1.0",
        documentation_url=_docs("sources", docs),
        custom=False,
        protocol_version="0.2.0",
        source_type=source_type,
        runner="process",
        command=[program],
    )


def _sluice_destination(id: str, name: str, program: str, docs: str) -> DestinationDefinitionRead:
    return DestinationDefinitionRead(
        destination_definition_id=uuid.UUID(id),
        name=name,
        docker_repository=f"sluice/{program}",
        docker_image_tag="0.1.0",
        documentation_url=_docs("destinations", docs),
        custom=False,
        protocol_version="0.2.0",
        supports_dbt=False,
        normalization_config=NormalizationDestinationDefinitionConfig(supported=False),
        runner="process",
        command=[program],
    )


def seed_definitions(db: Database) -> None:
    """The definitions a fresh install has. Ids are Airbyte's, so clients that hard-code
    them (Terraform files, scripts) find the same connectors; names are Airbyte's too."""
    sources = [
        SourceDefinitionRead(
            source_definition_id=uuid.UUID("dfd88b22-b603-4c3d-aad7-3701784586b1"),
            name="Sample Data (Faker)",
            docker_repository="airbyte/source-faker",
            docker_image_tag="7.2.1",
            documentation_url=_docs("sources", "faker"),
            custom=False,
            protocol_version="0.2.0",
            source_type="api",
            runner="docker",
            command=["source-faker"],
        ),
        _sluice_source(
            "d53f9084-fa6b-4a5a-976c-5b8392f4ad8a",
            "E2E Testing",
            "source-e2e-test",
            "api",
            "e2e-test",
        ),
        _sluice_source(
            "778daa7c-feaf-4db6-96f3-70fd645acc77",
            "File (CSV, JSON, Excel, Feather, Parquet)",
            "source-file",
            "file",
            "file",
        ),
    ]
    destinations = [
        _sluice_destination(
            "a7bcc9d8-13b3-4e49-b80d-d020b90045e3",
            "End-to-End Testing (/dev/null)",
            "destination-dev-null",
            "dev-null",
        ),
        _sluice_destination(
            "b76be0a6-27dc-4560-95f6-2623da0bd7b6", "Local SQLite", "destination-sqlite", "sqlite"
        ),
        _sluice_destination(
            "94bd199c-2ff0-4aa2-b98e-17f0acb72610", "DuckDB", "destination-duckdb", "duckdb"
        ),
        _sluice_destination(
            "a625d593-bba5-4a1c-a53d-2d246268a816", "Local JSON", "destination-jsonl", "local-json"
        ),
        _sluice_destination(
            "25c5221d-dce2-4163-ade9-739ef790f503", "Postgres", "destination-postgres", "postgres"
        ),
    ]
    for source in sources:
        insert_source_definition(db, source)
    for destination in destinations:
        insert_destination_definition(db, destination)
