import pytest

from common.settings import ElasticsearchSettings, KafkaSettings, env_int, env_number
from jobs.control.config import JobConfig


def test_env_int_and_number_name_the_variable_on_bad_values() -> None:
    assert env_int({}, "X", 5, 1) == 5
    assert env_int({"X": " 7 "}, "X", 5, 1) == 7
    with pytest.raises(ValueError, match="X must be an integer, got 'seven'"):
        env_int({"X": "seven"}, "X", 5, 1)
    with pytest.raises(ValueError, match="X must be at least 1, got 0"):
        env_int({"X": "0"}, "X", 5, 1)
    assert env_number({"Y": "0.5"}, "Y", 1.0, 0.1) == 0.5
    with pytest.raises(ValueError, match="Y must be a number"):
        env_number({"Y": "half"}, "Y", 1.0, 0.1)


def test_kafka_credentials_reach_both_client_configs() -> None:
    settings = KafkaSettings.from_env(
        {
            "LOGFLOW_KAFKA_BOOTSTRAP": "k1:9093,k2:9093",
            "LOGFLOW_KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
            "LOGFLOW_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "LOGFLOW_KAFKA_SASL_USERNAME": "svc",
            "LOGFLOW_KAFKA_SASL_PASSWORD": 'p"w',
            "LOGFLOW_KAFKA_SSL_CA": "/ca.pem",
        }
    )
    assert settings.client_config()["sasl.username"] == "svc"
    assert settings.client_config()["security.protocol"] == "SASL_SSL"
    jaas = settings.java_properties()["sasl.jaas.config"]
    assert "ScramLoginModule" in jaas and 'password="p\\"w"' in jaas
    assert settings.java_properties()["ssl.truststore.location"] == "/ca.pem"
    assert 'p"w' not in repr(settings)


def test_elasticsearch_api_key_wins_over_basic_auth() -> None:
    kwargs = ElasticsearchSettings.from_env(
        {
            "LOGFLOW_ES_URL": "https://a:9200,https://b:9200",
            "LOGFLOW_ES_API_KEY": "k",
            "LOGFLOW_ES_USERNAME": "u",
        }
    ).client_kwargs()
    assert kwargs["hosts"] == ["https://a:9200", "https://b:9200"]
    assert kwargs["api_key"] == "k" and "basic_auth" not in kwargs


def test_job_config_from_env() -> None:
    config = JobConfig.from_env(
        {"LOGFLOW_PARALLELISM": "4", "LOGFLOW_START_FROM": "earliest", "LOGFLOW_LOG_TOPICS": "a, b"}
    )
    assert config.parallelism == 4 and config.start_from == "earliest"
    assert config.topics.logs == ("a", "b")
    with pytest.raises(ValueError, match="LOGFLOW_START_FROM"):
        JobConfig.from_env({"LOGFLOW_START_FROM": "yesterday"})


def test_job_flink_settings_from_env_are_layered_over_logflows_own() -> None:
    config = JobConfig.from_env(
        {"LOGFLOW_JOB_FLINK_CONF": "python.execution-mode=thread, pipeline.object-reuse = true\nx.y=a=b"}
    )
    assert config.flink_settings == (
        ("python.execution-mode", "thread"),
        ("pipeline.object-reuse", "true"),
        ("x.y", "a=b"),
    )
    assert JobConfig.from_env({}).flink_settings == ()
    with pytest.raises(ValueError, match="LOGFLOW_JOB_FLINK_CONF"):
        JobConfig.from_env({"LOGFLOW_JOB_FLINK_CONF": "python.execution-mode"})
