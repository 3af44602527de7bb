"""The metadata service's HTTP side: the view (views.py), its URLconf (urls.py) and the two
layouts it answers in (ec2.py, openstack.py). Served by metadata.wsgi only."""
