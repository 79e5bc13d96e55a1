"""enforce"""
